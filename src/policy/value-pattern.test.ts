import { describe, expect, it } from 'vitest';
import { operatorOf, validateValueWithPattern as v } from './value-pattern.js';

// Cases ported from Kyverno pkg/engine/validate/pattern_test.go and the "Operators" table of the
// validate documentation (https://kyverno.io/docs/writing-policies/validate/#operators).
describe('validateValueWithPattern', () => {
  it('booleans compare only with booleans', () => {
    expect(v(true, true)).toBe(true);
    expect(v(true, false)).toBe(false);
    expect(v(false, true)).toBe(false);
    expect(v(false, false)).toBe(true);
    expect(v('true', true)).toBe(false);
  });

  it('wildcards: * and ?', () => {
    expect(v('anything', '*')).toBe(true);
    expect(v('', '*')).toBe(true);
    expect(v('leftright', '*right')).toBe(true);
    expect(v('right', '*right')).toBe(true);
    expect(v('leftmiddle', '*right')).toBe(false);
    expect(v('abbeba', 'ab*ba')).toBe(true);
    expect(v('abbca', 'ab*ba')).toBe(false);
    expect(v('abbba', 'ab?ba')).toBe(true);
    expect(v('abbbba', 'ab?ba')).toBe(false);
    expect(v('', '?*')).toBe(false);
    expect(v('x', '?*')).toBe(true);
  });

  it('null pattern accepts only zero values', () => {
    expect(v('value', null)).toBe(false);
    expect(v('', null)).toBe(true);
    expect(v(0, null)).toBe(true);
    expect(v(0.1, null)).toBe(false);
    expect(v(1, null)).toBe(false);
    expect(v(false, null)).toBe(true);
    expect(v(true, null)).toBe(false);
    expect(v(undefined, null)).toBe(true);
    expect(v({}, null)).toBe(false);
  });

  it('numbers: int and float patterns', () => {
    expect(v(7.0, 7.0)).toBe(true);
    expect(v(7.9914, 7.9914)).toBe(true);
    expect(v(7.9914, 7.99141)).toBe(false);
    expect(v(7.000001, 7)).toBe(false);
    expect(v(8, 7)).toBe(false);
    expect(v('7', 7)).toBe(true);
    expect(v('7.5', 7.5)).toBe(true);
    expect(v('x', 7)).toBe(false);
  });

  it('logical or (|) and and (&)', () => {
    expect(v('10.100.11.54', '192.168.88.1 | 10.100.11.*')).toBe(true);
    expect(v('10', '>1 & <20')).toBe(true);
    const p = '>1 & <20 | >31 & <33';
    expect(v('10', p)).toBe(true);
    expect(v('32', p)).toBe(true);
    expect(v('21', p)).toBe(false);
  });

  it('comparison operators with spaces and numbers', () => {
    expect(v(4, '>= 3')).toBe(true);
    expect(v(3, '>3')).toBe(false);
    expect(v(2, '<3')).toBe(true);
    expect(v(7.00001, '>7.000001')).toBe(true);
    expect(v(7.00001, '!7')).toBe(true);
    expect(v(7, '7')).toBe(true);
    expect(v(6.000000001, '<6')).toBe(false);
    // docs example: replicas ">=2"
    expect(v(2, '>=2')).toBe(true);
    expect(v(1, '>=2')).toBe(false);
  });

  it('not-equal on strings is a negated wildcard', () => {
    expect(v('IfNotPresent', '!IfNotPresent')).toBe(false);
    expect(v('Always', '!IfNotPresent')).toBe(true);
    expect(v('nginx:latest', '!*:latest')).toBe(false);
    expect(v('nginx:1.2', '!*:latest')).toBe(true);
  });

  it('quantities compare across scales', () => {
    expect(v('1024Gi', '1024Gi')).toBe(true);
    expect(v('1024Mi', '1Gi')).toBe(true);
    expect(v('0.2', '200m')).toBe(true);
    expect(v('500', '500')).toBe(true);
    expect(v('2048', '1024')).toBe(false);
    expect(v(1024, '1024')).toBe(true);
    expect(v('gii', '1024Gi')).toBe(false);
    expect(v('1Gi', '>1000Mi')).toBe(true);
    expect(v('1G', '<1Gi')).toBe(true);
    expect(v('500m', '>=0.5')).toBe(true);
    expect(v('1', '>=500m')).toBe(true);
    expect(v('0.5', '<=.5')).toBe(true);
    expect(v('0.2', '<=.5')).toBe(true);
    expect(v('0.2', '!.5')).toBe(true);
    expect(v('2Gi', '<=1Gi')).toBe(false);
  });

  it('ranges a-b and a!-b (docs: a-b is value >= a & value <= b)', () => {
    expect(operatorOf('1-10')).toBe('-');
    expect(operatorOf('1!-10')).toBe('!-');
    expect(v(5, '1-10')).toBe(true);
    expect(v(1, '1-10')).toBe(true);
    expect(v(10, '1-10')).toBe(true);
    expect(v(11, '1-10')).toBe(false);
    expect(v(0, '1!-10')).toBe(true);
    expect(v(11, '1!-10')).toBe(true);
    expect(v(5, '1!-10')).toBe(false);
    expect(v('256Mi', '128Mi-512Mi')).toBe(true);
    expect(v('1Gi', '128Mi-512Mi')).toBe(false);
    expect(v('1Gi', '128Mi!-512Mi')).toBe(true);
    expect(v(-1, '-2-0')).toBe(true);
  });

  it('durations compare with operators', () => {
    expect(v('2h', '>1h')).toBe(true);
    expect(v('30m', '>1h')).toBe(false);
    expect(v('90m', '>=1h30m')).toBe(true);
  });

  it('operators >, < on plain strings do not match', () => {
    expect(v('abc', '>abc')).toBe(false);
  });

  it('map pattern only checks the value is a map', () => {
    expect(v({ a: 1 }, { b: 2 })).toBe(true);
    expect(v('x', { b: 2 })).toBe(false);
    expect(v([1], [1])).toBe(false);
  });
});
