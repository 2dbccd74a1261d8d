import { describe, expect, it } from 'vitest';
import { celEnvironment, compileCel, toCelValue } from './cel-env.js';
import { queryJmesPath } from './jmespath.js';
import { registerKyvernoFunctions } from './kyverno-functions.js';
import { RegexError, re2FindAll, re2ReplaceAll, re2Test } from './regex.js';

describe('policy regexes run on RE2 (Go regexp semantics, linear time)', () => {
  it('matches unanchored like regexp.MatchString', () => {
    expect(re2Test('^nginx:[0-9.]+$', 'nginx:1.25')).toBe(true);
    expect(re2Test('latest', 'nginx:latest')).toBe(true);
    expect(re2Test('(?i)LATEST', 'nginx:latest')).toBe(true);
    expect(re2Test('^a$', 'ab')).toBe(false);
  });

  it('rejects syntax Go rejects (lookaround, backreferences)', () => {
    expect(() => re2Test('(?=a)', 'a')).toThrow(RegexError);
    expect(() => re2Test('(a)\\1', 'aa')).toThrow(RegexError);
  });

  it('expands replacements like Regexp.Expand ($1, ${1}, $name, $$, $1x is a name)', () => {
    expect(re2ReplaceAll('(\\w+)@(\\w+)', 'me@host', '$2 at ${1}')).toBe('host at me');
    expect(re2ReplaceAll('(?P<user>\\w+)@', 'me@host', '${user}:')).toBe('me:host');
    expect(re2ReplaceAll('(a)', 'a', '$1x')).toBe(''); // group "1x" does not exist
    expect(re2ReplaceAll('(a)', 'a', '$$1')).toBe('$1');
    expect(re2ReplaceAll('a', 'a', '${oops')).toBe('${oops');
  });

  it('skips an empty match right after a match, as Go does', () => {
    expect(re2ReplaceAll('a*', 'baaa', 'X')).toBe('XbX');
    expect(re2FindAll('a*', 'baaac')).toEqual(['', 'aaa', '']);
    expect(re2FindAll('😀?', '😀x')).toEqual(['😀', '']);
  });

  it('answers catastrophic-backtracking patterns on long texts', () => {
    const text = `${'a'.repeat(50_000)}!`;
    expect(re2Test('^(a+)+$', text)).toBe(false);
    expect(re2Test('^(a|aa)*$', text)).toBe(false);
  });

  it('Kyverno regex_match and regex_replace_all use it', () => {
    registerKyvernoFunctions();
    const jmespathSearch = queryJmesPath;
    expect(jmespathSearch("regex_match('^(a+)+$', name)", { name: `${'a'.repeat(50_000)}!` })).toBe(false);
    expect(jmespathSearch("regex_replace_all('([a-z]+)-([0-9]+)', 'web-42', '${2}-$1')", {})).toBe('42-web');
    expect(jmespathSearch("regex_replace_all_literal('[0-9]', 'a1b2', '$1')", {})).toBe('a$1b$1');
  });

  it('CEL matches(), find() and findAll() use it', () => {
    celEnvironment();
    const run = (expr: string, object: unknown) => compileCel(expr).program({ object: toCelValue(object) });
    const object = { metadata: { name: `${'a'.repeat(50_000)}!` } };
    expect(run("object.metadata.name.matches('^(a+)+$')", object)).toBe(false);
    expect(run("object.metadata.name.matches('a!$')", object)).toBe(true);
    expect(run("!object.metadata.name.matches('^(a|aa)*$')", object)).toBe(true); // under a unary operator too
    expect(run("[object.metadata.name].exists(n, !(n.matches('^(a+)+$')))", object)).toBe(true);
    expect(run("'abc 123 def 456'.findAll('[0-9]+')", {})).toEqual(['123', '456']);
    expect(run("'abc 123'.find('[0-9]+')", {})).toBe('123');
  });
});

describe('CEL AST walks reach the operand of unary operators', () => {
  it('counts a macro under ! toward the cost bound', () => {
    expect(compileCel('!object.a.all(x, x.b.exists(y, y))').macroDepth).toBe(2);
  });
});
