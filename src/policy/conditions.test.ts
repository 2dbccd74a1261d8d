import { describe, expect, it } from 'vitest';
import { evaluateCondition as ev, evaluateConditions } from './conditions.js';

const c = (key: unknown, operator: string, value: unknown) => ev({ key, operator, value });

// Operators from https://kyverno.io/docs/writing-policies/preconditions/#operators and the
// operator handlers in Kyverno pkg/engine/variables/operator.
describe('condition operators', () => {
  it('Equals / NotEquals with wildcards, numbers, booleans, maps', () => {
    expect(c('NodePort', 'Equals', 'NodePort')).toBe(true);
    expect(c('api.mycompany.com', 'Equals', '*.mycompany.com')).toBe(true);
    expect(c('api.other.com', 'NotEquals', '*.mycompany.com')).toBe(true);
    expect(c(2, 'Equals', 2)).toBe(true);
    expect(c(2, 'Equals', '2')).toBe(true);
    expect(c(true, 'Equals', true)).toBe(true);
    expect(c(true, 'Equals', 'true')).toBe(false);
    expect(c({ a: 1 }, 'Equals', { a: 1 })).toBe(true);
    expect(c(['a'], 'Equals', ['a'])).toBe(true);
    expect(c('', 'NotEquals', '')).toBe(false);
    expect(c('sa', 'NotEquals', '')).toBe(true);
    expect(c('x', 'equals', 'x')).toBe(true);
  });

  it('Equals compares quantities and durations by value', () => {
    expect(c('1Gi', 'Equals', '1024Mi')).toBe(true);
    expect(c('1h', 'Equals', '60m')).toBe(true);
    expect(c('3600', 'Equals', '1h')).toBe(false);
    expect(c(3600, 'Equals', '1h')).toBe(true);
  });

  it('AnyIn / AllIn / AnyNotIn / AllNotIn (one-to-many, many-to-many)', () => {
    expect(c('build-default', 'AnyIn', ['build-default', 'build-base'])).toBe(true);
    expect(c('other', 'AnyIn', ['build-default', 'build-base'])).toBe(false);
    expect(c(['a', 'b'], 'AnyIn', ['b', 'c'])).toBe(true);
    expect(c(['a', 'b'], 'AllIn', ['b', 'c'])).toBe(false);
    expect(c(['b', 'c'], 'AllIn', ['a', 'b', 'c'])).toBe(true);
    expect(c(['a', 'b'], 'AnyNotIn', ['b', 'c'])).toBe(true);
    expect(c(['b', 'c'], 'AnyNotIn', ['b', 'c'])).toBe(false);
    expect(c(['a', 'd'], 'AllNotIn', ['b', 'c'])).toBe(true);
    expect(c(['a', 'b'], 'AllNotIn', ['b', 'c'])).toBe(false);
    expect(c('busybox', 'AnyIn', ['redis', 'busybox', 'nginx'])).toBe(true);
    // wildcards apply in both directions
    expect(c('ghcr.io/x/y', 'AnyIn', ['ghcr.io/*'])).toBe(true);
    expect(c(['nginx:*'], 'AnyIn', ['nginx:1.2'])).toBe(true);
    // numbers and booleans are compared as strings
    expect(c(80, 'AnyIn', [80, 443])).toBe(true);
    expect(c(true, 'AnyIn', ['true'])).toBe(true);
    // value as JSON list string or single string
    expect(c('a', 'AnyIn', '["a","b"]')).toBe(true);
    expect(c('a', 'AnyIn', 'a')).toBe(true);
    expect(c('a', 'AnyNotIn', '["b"]')).toBe(true);
    // ranges
    expect(c(5, 'AnyIn', '1-10')).toBe(true);
    expect(c([5, 20], 'AllIn', '1-10')).toBe(false);
    expect(c([5, 20], 'AnyNotIn', '1-10')).toBe(true);
    // null key is unsupported
    expect(c(null, 'AnyIn', ['a'])).toBe(false);
  });

  it('GreaterThan / LessThan on numbers, quantities, durations and semver', () => {
    expect(c(3, 'GreaterThan', 2)).toBe(true);
    expect(c('3', 'GreaterThan', 2)).toBe(true);
    expect(c(2, 'GreaterThanOrEquals', 2)).toBe(true);
    expect(c(1, 'LessThan', 2)).toBe(true);
    expect(c(2, 'LessThanOrEquals', 1)).toBe(false);
    expect(c('512Mi', 'LessThan', '1Gi')).toBe(true);
    expect(c('2Gi', 'LessThan', '1Gi')).toBe(false);
    expect(c('2h', 'GreaterThan', '1h')).toBe(true);
    expect(c(7200, 'GreaterThan', '1h')).toBe(true);
    expect(c('1.10.0', 'GreaterThan', '1.9.3')).toBe(true);
    expect(c('v1.2.0', 'LessThan', '1.3.0')).toBe(true);
    expect(c('abc', 'GreaterThan', 'abd')).toBe(false);
    expect(c(null, 'GreaterThan', 1)).toBe(false);
  });

  it('Duration* operators', () => {
    expect(c('2h', 'DurationGreaterThan', '1h')).toBe(true);
    expect(c('1h', 'DurationGreaterThanOrEquals', '60m')).toBe(true);
    expect(c(30, 'DurationLessThan', '1m')).toBe(true);
    expect(c('1m', 'DurationLessThanOrEquals', 59)).toBe(false);
  });

  it('deprecated In / NotIn', () => {
    expect(c('a', 'In', ['a', 'b'])).toBe(true);
    expect(c(['a', 'b'], 'In', ['a', 'b', 'c'])).toBe(true);
    expect(c(['a', 'z'], 'In', ['a', 'b'])).toBe(false);
    expect(c('z', 'NotIn', ['a', 'b'])).toBe(true);
  });

  it('an unknown operator is an error', () => {
    expect(() => c('a', 'Matches', 'a')).toThrow();
  });
});

describe('any / all blocks', () => {
  const ctx = { request: { object: { metadata: { labels: { color: 'red', app: 'busybox', animal: 'cow', env: 'qa' } } } } };
  it('docs example: any (color=blue OR app=busybox) and all (animal=cow AND env=qa)', () => {
    const conditions = {
      any: [
        { key: "{{ request.object.metadata.labels.color || '' }}", operator: 'Equals', value: 'blue' },
        { key: "{{ request.object.metadata.labels.app || '' }}", operator: 'Equals', value: 'busybox' },
      ],
      all: [
        { key: "{{ request.object.metadata.labels.animal || '' }}", operator: 'Equals', value: 'cow' },
        { key: "{{ request.object.metadata.labels.env || '' }}", operator: 'Equals', value: 'qa' },
      ],
    };
    expect(evaluateConditions(conditions, ctx, 'preconditions').met).toBe(true);
    const noAny = { ...conditions, any: [conditions.any[0]!] };
    expect(evaluateConditions(noAny, ctx, 'preconditions').met).toBe(false);
  });

  it('legacy list form is an all', () => {
    expect(evaluateConditions([{ key: 'a', operator: 'Equals', value: 'a' }, { key: 'b', operator: 'Equals', value: 'c' }], {}, 'deny').met).toBe(false);
  });

  it('short-circuits: a later unresolvable variable is never evaluated', () => {
    const conditions = { any: [{ key: 'x', operator: 'Equals', value: 'x' }, { key: '{{ request.object.missing.key }}', operator: 'Equals', value: 'y' }] };
    expect(evaluateConditions(conditions, ctx, 'deny').met).toBe(true);
  });

  it('an evaluated unresolvable variable is an error (Unknown key)', () => {
    const conditions = { all: [{ key: '{{ request.object.metadata.labels.team }}', operator: 'Equals', value: 'y' }] };
    expect(() => evaluateConditions(conditions, ctx, 'preconditions')).toThrow(/Unknown key/);
  });

  it('reports the message of the condition that was not met', () => {
    const out = evaluateConditions({ all: [{ key: 'a', operator: 'Equals', value: 'b', message: 'food must be cheese' }] }, {}, 'preconditions');
    expect(out).toEqual({ met: false, messages: ['food must be cheese'] });
  });
});
