import { describe, expect, it } from 'vitest';
import { evaluateCondition } from './conditions.js';
import { formatDuration, parseDuration, parseQuantity } from './quantity.js';
import { validateValueWithPattern } from './value-pattern.js';

const q = (s: string) => parseQuantity(s)?.toString();
const d = (s: string) => parseDuration(s)?.toString();

describe('quantities are exact decimals', () => {
  it('parses Kubernetes suffixes and exponents exactly', () => {
    expect(q('2300m')).toBe('2.3');
    expect(q('100m')).toBe('0.1');
    expect(q('1Ki')).toBe('1024');
    expect(q('1.5Gi')).toBe('1610612736');
    expect(q('1Ei')).toBe('1152921504606846976'); // 2^60: past 2^53, still exact
    expect(q('128974848')).toBe('128974848');
    expect(q('129e6')).toBe('129000000');
    expect(q('123Mi')).toBe('128974848');
    expect(q('1E')).toBe('1000000000000000000');
    expect(q('1e-3')).toBe('0.001');
    expect(q('5n')).toBe('0.000000005');
    expect(q('+.5')).toBe('0.5');
    expect(q('-1.')).toBe('-1');
  });

  it('rejects what ParseQuantity rejects', () => {
    for (const bad of ['', '.', '1K', '1 Gi', 'Gi', '1Gi1', '1e', '1e+', '--1', '1.2.3', 'abc']) expect(q(bad), bad).toBeUndefined();
  });

  it('compares exactly in patterns: cpu "<=2.3" admits 2300m (a float comparison does not)', () => {
    expect(validateValueWithPattern('2300m', '<=2.3')).toBe(true);
    expect(validateValueWithPattern('2301m', '<=2.3')).toBe(false);
    expect(validateValueWithPattern('1Gi', '1024Mi')).toBe(true);
    expect(validateValueWithPattern('1025Mi', '<=1Gi')).toBe(false);
    expect(validateValueWithPattern('1Ei', '>1152921504606846975')).toBe(true); // beyond float precision
    expect(validateValueWithPattern('700m', '100m-1')).toBe(true);
  });

  it('compares exactly in conditions (Kyverno docs: memory GreaterThan 1Gi, cpu LessThanOrEquals)', () => {
    const cond = (key: unknown, operator: string, value: unknown) => evaluateCondition({ key, operator, value });
    expect(cond('2300m', 'LessThanOrEquals', '2.3')).toBe(true);
    expect(cond('2Gi', 'GreaterThan', '1Gi')).toBe(true);
    expect(cond('1Gi', 'Equals', '1024Mi')).toBe(true);
  });
});

describe('durations are exact (Go time.ParseDuration)', () => {
  it('parses units and compound durations to exact seconds', () => {
    expect(d('1h30m')).toBe('5400');
    expect(d('1.5h')).toBe('5400');
    expect(d('300ms')).toBe('0.3');
    expect(d('2h45m30.5s')).toBe('9930.5');
    expect(d('1µs')).toBe('0.000001');
    expect(d('-1.5m')).toBe('-90');
    expect(d('0')).toBe('0');
    for (const bad of ['', '1', '1x', '1hh', '.s', 'h', '1h 30m', '9999999999h']) expect(d(bad), bad).toBeUndefined();
  });

  it('formats like Duration.String()', () => {
    expect(formatDuration(parseDuration('1h30m')!)).toBe('1h30m0s');
    expect(formatDuration(parseDuration('1.5s')!)).toBe('1.5s');
    expect(formatDuration(parseDuration('1500us')!)).toBe('1.5ms');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-61)).toBe('-1m1s');
  });

  it('compares 0.1s + 0.2s exactly against 300ms', () => {
    expect(validateValueWithPattern('300ms', '<=0.3s')).toBe(true);
    expect(validateValueWithPattern('1h', '>59m59.999999999s')).toBe(true);
  });
});

describe('quantity and duration parsing stay linear on hostile strings', () => {
  it('answers on a megabyte of digits (the old regex backtracked quadratically)', () => {
    const digits = '1'.repeat(1_000_000);
    expect(parseQuantity(`${digits}x`)).toBeUndefined();
    expect(parseDuration(`${digits}x`)).toBeUndefined();
    expect(parseQuantity(digits)?.gt(0)).toBe(true);
  });
});
