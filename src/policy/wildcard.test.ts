import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardMatch } from './wildcard.js';

/** Reference: the textbook dynamic program over code points (quadratic, obviously right). */
function referenceMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let prev = new Array<boolean>(t.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= p.length; i++) {
    const cur = new Array<boolean>(t.length + 1).fill(false);
    if (p[i - 1] === '*') cur[0] = prev[0]!;
    for (let j = 1; j <= t.length; j++) {
      if (p[i - 1] === '*') cur[j] = prev[j]! || cur[j - 1]!;
      else cur[j] = prev[j - 1]! && (p[i - 1] === '?' || p[i - 1] === t[j - 1]);
    }
    prev = cur;
  }
  return prev[t.length]!;
}

// A small alphabet makes matches (and near misses) common; emoji exercise code points vs code units.
const char = fc.constantFrom('a', 'b', 'c', '-', '/', '😀', 'é');
const patternChar = fc.oneof({ weight: 3, arbitrary: char }, { weight: 1, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: fc.constant('?') });
const text = fc.array(char, { maxLength: 40 }).map((a) => a.join(''));
const pattern = fc.array(patternChar, { maxLength: 14 }).map((a) => a.join(''));

describe('wildcardMatch', () => {
  // github.com/kyverno/go-wildcard (the minio-derived matcher Kyverno vendors) wildcard_test.go cases.
  const kyvernoCases: [string, string, boolean][] = [
    ['*', 's3:GetObject', true],
    ['', 's3:GetObject', false],
    ['', '', true],
    ['s3:*', 's3:ListMultipartUploadParts', true],
    ['s3:ListBucketMultipartUploads', 's3:ListBucket', false],
    ['my-bucket/oo*', 'my-bucket/oo', true],
    ['my-bucket/In*', 'my-bucket/Karnataka/India/', false],
    ['my-bucket/In*/Ka*/Ban', 'my-bucket/India/Karnataka/Ban/Ban/Ban/Ban/Ban', true],
    ['my-bucket/In*/Ka*/Ban', 'my-bucket/India/Karnataka/Bangalore', false],
    ['my-bucket/In*/Ka*/Ban*', 'my-bucket/India/Karnataka/Bangalore', true],
    ['my-bucket?/abc*', 'mybucket/abc', false],
    ['my-bucket?/abc*', 'my-bucket1/abc', true],
    ['my-?-bucket/abc*', 'my--bucket/abc', false],
    ['my??bucket/abc*', 'my4abucket/abc', true],
    ['my-bucket/abc?efg', 'my-bucket/abc/efg', true],
    ['my-bucket/abc????', 'my-bucket/abcde', false],
    ['my-bucket/abc????', 'my-bucket/abcdefg', true],
    ['my-bucket/abc?', 'my-bucket/abc', false],
    ['my-bucket/mnop*?', 'my-bucket/mnop', false],
    ['my-bucket/mnop*?', 'my-bucket/mnopqrst/mnopqr', true],
    ['my-bucket/mnop*?and', 'my-bucket/mnopand', false],
    ['my-bucket/mnop*?and?', 'my-bucket/mnopqanda', true],
    ['my-bucket/mnop*?and', 'my-bucket/mnopqanda', false],
    ['my-bucket/mnop*??', 'my-bucket/mnopqrst', true],
  ];
  it.each(kyvernoCases)('%j against %j is %s (Kyverno go-wildcard cases)', (p, t, want) => {
    expect(wildcardMatch(p, t)).toBe(want);
  });

  it('treats ? as one code point, like a Go rune', () => {
    expect(wildcardMatch('a?b', 'a😀b')).toBe(true);
    expect(wildcardMatch('a??b', 'a😀b')).toBe(false);
    expect(wildcardMatch('*😀', 'x😀')).toBe(true);
  });

  it('agrees with a dynamic-programming reference on random patterns and texts', () => {
    fc.assert(fc.property(pattern, text, (p, t) => wildcardMatch(p, t) === referenceMatch(p, t)), { numRuns: 3000 });
  });

  it('agrees with the reference when the text is built to match, then mutated', () => {
    // Texts derived from the pattern hit the accept side far more often than random ones.
    const instance = fc.tuple(fc.array(patternChar, { maxLength: 12 }), fc.array(char, { maxLength: 12 })).map(([ps, fill]) => {
      let k = 0;
      const t = ps.map((c) => (c === '*' ? fill.slice(0, k++ % 3).join('') : c === '?' ? (fill[k++ % Math.max(fill.length, 1)] ?? 'z') : c)).join('');
      return [ps.join(''), t] as const;
    });
    fc.assert(
      fc.property(instance, fc.nat(40), char, ([p, t], at, c) => {
        const mutated = [...t];
        if (mutated.length > 0) mutated[at % mutated.length] = c;
        return wildcardMatch(p, t) === referenceMatch(p, t) && wildcardMatch(p, mutated.join('')) === referenceMatch(p, mutated.join(''));
      }),
      { numRuns: 3000 },
    );
  });

  it('segments longer than one 32-bit word still match exactly', () => {
    const seg = 'ab?'.repeat(30);
    expect(wildcardMatch(`*${seg}*`, `zz${'abq'.repeat(30)}zz`)).toBe(true);
    expect(wildcardMatch(`*${seg}*`, `zz${'abq'.repeat(29)}acqzz`)).toBe(false);
    fc.assert(fc.property(fc.array(patternChar, { minLength: 33, maxLength: 80 }), text, (ps, t) => wildcardMatch(ps.join(''), t + t) === referenceMatch(ps.join(''), t + t)), { numRuns: 300 });
  });

  it('answers pathological backtracking patterns on large texts (a backtracking regex never finishes these)', () => {
    const big = 'a'.repeat(200_000);
    expect(wildcardMatch('*a*a*a*a*a*a*a*a*a*a*b', big)).toBe(false);
    expect(wildcardMatch('*a*a*a*a*a*a*a*a*a*a*b', `${big}b`)).toBe(true);
    expect(wildcardMatch(`*${'?'.repeat(40)}b*`, big)).toBe(false);
    expect(wildcardMatch('a*?*?*?*?*?*?*?*c', big)).toBe(false);
  });
});
