import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, nestingExceeds } from './nesting.js';

const nest = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
};

describe('nestingExceeds', () => {
  it('counts objects and arrays; scalars are not a level', () => {
    expect(nestingExceeds('x', 0)).toBe(false);
    expect(nestingExceeds({}, 0)).toBe(true);
    expect(nestingExceeds(nest(MAX_NESTING_DEPTH))).toBe(false);
    expect(nestingExceeds(nest(MAX_NESTING_DEPTH + 1))).toBe(true);
  });

  it('measures a million levels without recursion', () => {
    expect(nestingExceeds(JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`))).toBe(true);
  });
});
