import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handoff, Ledger } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { type Backend, bothBackends, newHandoff } from './backends.js';

const pgOk = await gatePostgres();
const N = 50;

/**
 * 50 proposals written in parallel while 2 executors race for them: through claimNextPending
 * (FOR UPDATE SKIP LOCKED) and by both trying to move every handoff directly. Each handoff must
 * change state exactly once per transition, with no lost or duplicated rows.
 */
describe.each(bothBackends(pgOk))('50 parallel proposals and 2 racing executors on %s', (_name, make, enabled) => {
  let b: Backend;
  beforeAll(async () => {
    if (enabled) b = await make();
  });
  afterAll(async () => b && (await b.close()));

  it.skipIf(!enabled)('every handoff is claimed once and moved on once', async () => {
    const proposer = await b.lane('codex', 10);
    const executors: Ledger[] = [await b.lane('claude', 5), await b.lane('claude', 5)];

    let proposing = true;
    const proposals = Promise.all(Array.from({ length: N }, (_, i) => proposer.withLane('codex', (tx) => tx.insertHandoff(newHandoff(i))))).finally(() => {
      proposing = false;
    });

    const claimedBy: string[][] = [[], []];
    const executor = async (k: number) => {
      for (;;) {
        const h: Handoff | null = await executors[k]!.withLane('claude', (tx) => tx.claimNextPending());
        if (h) {
          claimedBy[k]!.push(h.id);
          continue;
        }
        if (!proposing) {
          // one last look after the proposer finished
          const last = await executors[k]!.withLane('claude', (tx) => tx.claimNextPending());
          if (!last) return;
          claimedBy[k]!.push(last.id);
          continue;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const [proposed] = await Promise.all([proposals, executor(0), executor(1)]);
    expect(proposed).toHaveLength(N);

    const all = [...claimedBy[0]!, ...claimedBy[1]!];
    expect(all).toHaveLength(N);
    expect(new Set(all).size).toBe(N);
    expect(new Set(all)).toEqual(new Set(proposed.map((h) => h.id)));

    // Both executors now race to move EVERY handoff on: exactly one wins each.
    const outcomes = await Promise.all(
      proposed.flatMap((h) =>
        executors.map((ex) =>
          ex
            .withLane('claude', (tx) => tx.transitionHandoff(h.id, 'claimed', 'verified', { commit: 'c'.repeat(40) }))
            .then(
              () => 'won',
              (e: { code?: string }) => e.code ?? 'error',
            ),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(N);
    expect(outcomes.filter((o) => o === 'STATE_CONFLICT')).toHaveLength(N);

    const rows = await b.admin.withAdmin((tx) => tx.listHandoffs({ limit: 10_000 }));
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.state === 'verified' && r.commit === 'c'.repeat(40))).toBe(true);

    // One audit row per state change, and the chain is intact.
    const audit = await b.admin.withAdmin((tx) => tx.listAudit({ limit: 100_000 }));
    const count = (action: string) => audit.filter((a) => a.action === action).length;
    expect([count('handoff.proposed'), count('handoff.claimed'), count('handoff.verified')]).toEqual([N, N, N]);
    for (const action of ['handoff.claimed', 'handoff.verified']) {
      const subjects = audit.filter((a) => a.action === action).map((a) => a.subject);
      expect(new Set(subjects).size).toBe(N);
    }
    expect(await b.admin.verifyAudit()).toMatchObject({ ok: true, rows: audit.length });
  });
});
