import { describe, expect, it } from 'vitest';
import { queryJmesPath } from './jmespath.js';
import { setDotted, setValuesKey, splitValuesKey, substituteAll, substituteString } from './variables.js';

const ctx = {
  request: { operation: 'CREATE', object: { metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'x' } }, spec: { replicas: 3, containers: [{ name: 'a', image: 'nginx:1.2' }, { name: 'b', image: 'busybox' }] } } },
};

describe('variable substitution', () => {
  it('a string that is exactly one variable keeps the value type', () => {
    expect(substituteString('{{ request.object.spec.replicas }}', ctx)).toBe(3);
    expect(substituteString('{{request.object.spec.containers[].name}}', ctx)).toEqual(['a', 'b']);
  });
  it('interpolates inside text; non-strings as JSON', () => {
    expect(substituteString('name={{ request.object.metadata.name }} n={{ request.object.spec.replicas }}', ctx)).toBe('name=web n=3');
    expect(substituteString('{{ request.object.metadata.labels."app.kubernetes.io/name" }}', ctx)).toBe('x');
  });
  it('escaped \\{{ stays literal', () => {
    expect(substituteString('\\{{ not a var }}', ctx)).toBe('{{ not a var }}');
  });
  it('missing keys raise Unknown key; || defaults do not', () => {
    expect(() => substituteString('{{ request.object.metadata.labels.team }}', ctx)).toThrow(/Unknown key "team"/);
    expect(substituteString("{{ request.object.metadata.labels.team || 'none' }}", ctx)).toBe('none');
    expect(queryJmesPath('request.object.spec.containers[?name==`z`].image', ctx)).toEqual([]);
  });
  it('substitutes in nested documents and keys', () => {
    expect(substituteAll({ a: ['{{ request.operation }}'], '{{ request.object.metadata.name }}': 1 }, ctx)).toEqual({ a: ['CREATE'], web: 1 });
  });
  it('setDotted copies on write', () => {
    const base = { request: { object: { metadata: { name: 'a' } } } };
    const target = { ...base };
    setDotted(target, 'request.object.metadata.name', 'b');
    expect(base.request.object.metadata.name).toBe('a');
    expect((target.request as { object: { metadata: { name: string } } }).object.metadata.name).toBe('b');
  });
  it('values-file keys split on dots outside double quotes, like Go csv with . as separator', () => {
    expect(splitValuesKey('request.operation')).toEqual(['request', 'operation']);
    expect(splitValuesKey('request.object.metadata.labels."example.org/tier"')).toEqual(['request', 'object', 'metadata', 'labels', 'example.org/tier']);
    expect(splitValuesKey('a."say ""hi"".x".b')).toEqual(['a', 'say "hi".x', 'b']);
    const target: Record<string, unknown> = {};
    setValuesKey(target, 'request.object.metadata.labels."example.org/tier"', 'gold');
    expect(substituteString('{{ request.object.metadata.labels."example.org/tier" }}', target)).toBe('gold');
  });
});

// Kyverno custom JMESPath functions (https://kyverno.io/docs/writing-policies/jmespath/).
describe('Kyverno JMESPath functions', () => {
  const q = (e: string, d: unknown = {}) => queryJmesPath(e, d);
  it('strings', () => {
    expect(q("to_upper('abc')")).toBe('ABC');
    expect(q("to_lower('ABC')")).toBe('abc');
    expect(q("split('a,b,c', ',')")).toEqual(['a', 'b', 'c']);
    expect(q("trim_prefix('v1.2', 'v')")).toBe('1.2');
    expect(q("trim('  x  ', ' ')")).toBe('x');
    expect(q("truncate('abcdef', `3`)")).toBe('abc');
    expect(q("replace_all('a.b.c', '.', '-')")).toBe('a-b-c');
    expect(q("replace('aaa', 'a', 'b', `1`)")).toBe('baa');
    expect(q("replace('aaa', 'a', 'b', `-1`)")).toBe('bbb');
    expect(q("equal_fold('Go', 'GO')")).toBe(true);
    expect(q("compare('a', 'b')")).toBe(-1);
  });
  it('regex and wildcard', () => {
    expect(q("regex_match('^[a-z]+$', 'abc')")).toBe(true);
    expect(q("regex_match('^[a-z]+$', 'aB')")).toBe(false);
    expect(q("regex_replace_all('([a-z])-', 'a-b-c', '${1}_')")).toBe('a_b_c');
    expect(q("pattern_match('nginx:*', 'nginx:1.2')")).toBe(true);
  });
  it('arithmetic on numbers, quantities and durations', () => {
    expect(q('add(`1`, `2`)')).toBe(3);
    expect(q("add('1Gi', '512Mi')")).toBe('1536Mi'); // resource.Quantity.String() is canonical
    expect(q("subtract('2h', '30m')")).toBe('1h30m0s');
    expect(q('multiply(`3`, `4`)')).toBe(12);
    expect(q('divide(`9`, `3`)')).toBe(3);
    expect(q('modulo(`9`, `4`)')).toBe(1);
    expect(() => q('divide(`9`, `0`)')).toThrow();
    expect(q('round(`1.256`, `2`)')).toBe(1.26);
  });
  it('encoding and parsing', () => {
    expect(q("base64_decode('aGVsbG8=')")).toBe('hello');
    expect(q("base64_encode('hello')")).toBe('aGVsbG8=');
    expect(q(`parse_json('{"a":1}')`)).toEqual({ a: 1 });
    expect(q("parse_yaml('a: [1, 2]')")).toEqual({ a: [1, 2] });
  });
  it('objects', () => {
    expect(q('label_match(`{"app":"web"}`, `{"app":"web","tier":"fe"}`)')).toBe(true);
    expect(q('label_match(`{"app":"db"}`, `{"app":"web"}`)')).toBe(false);
    expect(q("items(`{\"b\":2,\"a\":1}`, 'key', 'value')")).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(q('object_from_lists(`["a","b"]`, `[1,2]`)')).toEqual({ a: 1, b: 2 });
    expect(q("semver_compare('1.2.3', '>1.0.0')")).toBe(true);
    expect(q("image_normalize('nginx')")).toBe('docker.io/nginx:latest');
    expect(q("image_normalize('ghcr.io/a/b:1')")).toBe('ghcr.io/a/b:1');
  });
  it('time', () => {
    expect(q("time_after('2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z')")).toBe(true);
    expect(q("time_add('2024-01-01T00:00:00Z', '1h')")).toBe('2024-01-01T01:00:00Z');
    expect(q("time_diff('2024-01-01T00:00:00Z', '2024-01-01T01:30:00Z')")).toBe('1h30m0s');
    expect(q("time_truncate('2024-01-01T01:47:13Z', '1h')")).toBe('2024-01-01T01:00:00Z');
    expect(q("time_parse('2006-01-02T15:04:05Z07:00', '2024-02-03T04:05:06Z')")).toBe('2024-02-03T04:05:06Z');
  });
  it('syntax errors are reported', () => {
    expect(() => q('a.[')).toThrow(/invalid JMESPath/);
  });
});
