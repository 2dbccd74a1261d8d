import { describe, expect, it } from 'vitest';
import { queryJmesPath } from './jmespath.js';
import { formatQuantity } from './kyverno-functions.js';

const q = (expr: string, data: unknown = {}) => queryJmesPath(expr, data);

describe('Kyverno JMESPath functions used by the sample policies', () => {
  it('string helpers', () => {
    expect(q("split('a,b', ',')")).toEqual(['a', 'b']);
    expect(q("to_upper('abc')")).toBe('ABC');
    expect(q("to_lower('ABC')")).toBe('abc');
    expect(q("truncate('abcdef', `3`)")).toBe('abc');
    expect(q("trim(' abc ', ' ')")).toBe('abc');
    expect(q("trim_prefix('abc', 'a')")).toBe('bc');
    expect(q("replace('aaa', 'a', 'b', `2`)")).toBe('bba');
    expect(q("replace_all('aaa', 'a', 'b')")).toBe('bbb');
    expect(q("equal_fold('Go', 'GO')")).toBe(true);
    expect(q("compare('a', 'b')")).toBe(-1);
    expect(q("regex_match('^a.*', 'abc')")).toBe(true);
    expect(q("regex_replace_all('([a-z]+)-(\\\\d+)', 'abc-12', '$2-$1')")).toBe('12-abc');
    expect(q("pattern_match('a*', 'abc')")).toBe(true);
    expect(q("base64_decode(base64_encode('hi'))")).toBe('hi');
    expect(q("parse_json('{\"a\":1}').a")).toBe(1);
    expect(q("parse_yaml('a: [1, 2]').a")).toEqual([1, 2]);
  });

  it('path_canonicalize is Go filepath.Clean', () => {
    expect(q("path_canonicalize('/a/b/../c/')")).toBe('/a/c');
    expect(q("path_canonicalize('//etc//passwd')")).toBe('/etc/passwd');
    expect(q("path_canonicalize('/../etc')")).toBe('/etc');
    expect(q("path_canonicalize('a/./b/')")).toBe('a/b');
    expect(q("path_canonicalize('')")).toBe('.');
  });

  it('is_external_url: loopback and private addresses are internal; names are not resolved offline', () => {
    for (const u of ['http://127.0.0.5', 'http://10.1.2.3/x', 'http://172.16.0.1', 'http://172.31.255.1', 'http://192.168.1.1', 'http://[::1]:8080', 'http://[fd00::1]', 'http://localhost:80', 'http://api.localhost']) expect(q(`is_external_url('${u}')`)).toBe(false);
    for (const u of ['http://172.32.0.1', 'https://8.8.8.8', 'https://example.com', 'http://[2001:db8::1]']) expect(q(`is_external_url('${u}')`)).toBe(true);
  });

  it('random generates strings that match the pattern', () => {
    const cases: [string, RegExp][] = [
      ["random('[0-9a-z]{5}')", /^[0-9a-z]{5}$/],
      ["random('ab[0-9]{2}-[a-f]{3,4}')", /^ab[0-9]{2}-[a-f]{3,4}$/],
      ["random('(foo|bar)\\\\d{2}')", /^(foo|bar)\d{2}$/],
      ["random('[^a-z]{3}x?')", /^[^a-z]{3}x?$/],
    ];
    for (const [expr, re] of cases) for (let i = 0; i < 20; i++) expect(q(expr)).toMatch(re);
    expect(() => q("random('')")).toThrow();
  });

  it('quantity arithmetic prints like resource.Quantity', () => {
    expect(q("add('1Gi', '1Mi')")).toBe('1025Mi');
    expect(q("sum(['1Gi', '512Mi'])")).toBe('1536Mi');
    expect(q("subtract('1Gi', '512Mi')")).toBe('512Mi');
    expect(q("multiply('250m', `4`)")).toBe('1');
    expect(q("add('1.5', '500m')")).toBe('2');
    expect(q("add('100m', '50m')")).toBe('150m');
    expect(q("divide('12Gi', '3Gi')")).toBe(4);
    expect(q("divide('10Gi', `2`)")).toBe('5Gi');
    expect(q("modulo('10Gi', '3Gi')")).toBe('1Gi');
    expect(formatQuantity(1500, 'DecimalSI')).toBe('1500');
    expect(formatQuantity(2000, 'DecimalSI')).toBe('2k');
    expect(formatQuantity(512, 'BinarySI')).toBe('512');
    expect(formatQuantity(1.5 * 2 ** 30, 'BinarySI')).toBe('1536Mi');
    expect(formatQuantity(0.5, 'DecimalSI')).toBe('500m');
  });

  it('duration arithmetic prints like time.Duration', () => {
    expect(q("multiply('2h', `3`)")).toBe('6h0m0s');
    expect(q("subtract('2h', '30m')")).toBe('1h30m0s');
    expect(q("divide('1h', '30m')")).toBe(2);
    expect(q('modulo(`7`, `3`)')).toBe(1);
    expect(() => q("add('1h', `1`)")).toThrow(/types mismatch/);
    expect(() => q("add('1Gi', '1h')")).toThrow(/types mismatch/);
    expect(() => q("divide('1Gi', `0`)")).toThrow(/Zero divisor/);
  });

  it('semver, time, object and lookup helpers', () => {
    expect(q("semver_compare('1.2.3', '>1.0.0 <2.0.0')")).toBe(true);
    expect(q("semver_compare('1.2.3', '>=2.0.0 || <1.0.0')")).toBe(false);
    expect(q("time_since('', '2021-01-02T15:04:05Z', '2021-01-02T16:04:05Z')")).toBe('1h0m0s');
    expect(q("time_add('2021-01-02T15:04:05Z', '1h')")).toBe('2021-01-02T16:04:05Z');
    expect(q("time_before('2021-01-01T00:00:00Z', '2021-01-02T00:00:00Z')")).toBe(true);
    expect(q("time_truncate('2021-01-02T15:04:05Z', '1h')")).toBe('2021-01-02T15:00:00Z');
    expect(q("items({b: `2`, a: `1`}, 'key', 'value')")).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(q("object_from_lists(['a', 'b'], [`1`])")).toEqual({ a: 1, b: null });
    expect(q("label_match({a: 'b'}, {a: 'b', c: 'd'})")).toBe(true);
    expect(q("lookup({a: `1`}, 'a')")).toBe(1);
    expect(q("image_normalize('nginx')")).toBe('docker.io/nginx:latest');
    expect(q("sum([`1`, `2`])")).toBe(3);
  });
});
