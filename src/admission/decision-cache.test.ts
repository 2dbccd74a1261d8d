import { describe, expect, it } from 'vitest';
import { DecisionCache } from './decision-cache.js';

describe('DecisionCache', () => {
  it('keeps passes for the positive TTL and failures for the short negative TTL; never caches errors', async () => {
    let now = 0;
    const cache = new DecisionCache<string>({ positiveTtlMs: 1000, negativeTtlMs: 100, now: () => now });
    const classify = (v: string) => (v === 'pass' ? 'positive' : v === 'fail' ? 'negative' : 'none') as 'positive' | 'negative' | 'none';
    let calls = 0;
    const compute = (v: string) => async () => {
      calls++;
      return v;
    };
    await cache.getOrCompute('a', compute('pass'), classify);
    await cache.getOrCompute('b', compute('fail'), classify);
    await cache.getOrCompute('c', compute('error'), classify);
    expect(calls).toBe(3);
    now = 50;
    await cache.getOrCompute('a', compute('pass'), classify);
    await cache.getOrCompute('b', compute('fail'), classify);
    await cache.getOrCompute('c', compute('error'), classify);
    expect(calls).toBe(4); // only the error was recomputed
    now = 150;
    await cache.getOrCompute('b', compute('fail'), classify);
    expect(calls).toBe(5); // negative entry expired
    now = 1200;
    expect(cache.get('a')).toBeUndefined();
  });

  it('shares one computation among concurrent callers and stays bounded', async () => {
    const cache = new DecisionCache<number>({ maxEntries: 2 });
    let calls = 0;
    const slow = () => new Promise<number>((r) => setTimeout(() => r(++calls), 20));
    const [x, y] = await Promise.all([cache.getOrCompute('k', slow, () => 'positive'), cache.getOrCompute('k', slow, () => 'positive')]);
    expect(x).toBe(1);
    expect(y).toBe(1);
    cache.set('a', 1, 'positive');
    cache.set('b', 2, 'positive');
    expect(cache.size).toBe(2);
    expect(cache.get('k')).toBeUndefined(); // oldest evicted
  });
});
