import { describe, expect, it } from 'vitest';
import { recordLedgerSnapshot } from './ledger-gauges.js';
import { DuallaneMetrics } from './metrics.js';

describe('recordLedgerSnapshot', () => {
  it('sets pending and oldest-age per lane, folds unknown lanes into other, and records the audit chain', async () => {
    const m = new DuallaneMetrics({ defaultMetrics: false });
    recordLedgerSnapshot(
      {
        ledger: 'postgres',
        pending: [
          { lane: 'codex', count: 3, oldestAgeSeconds: 4000 },
          { lane: 'lane-a', count: 1, oldestAgeSeconds: 10 },
          { lane: 'lane-b', count: 2, oldestAgeSeconds: 70 },
        ],
        auditChain: { intact: false, checkedAt: new Date('2026-11-24T04:00:00Z') },
      },
      m,
    );
    let text = await m.render();
    expect(text).toContain('duallane_handoffs_pending{lane="codex"} 3');
    expect(text).toContain('duallane_handoffs_pending{lane="claude"} 0');
    expect(text).toContain('duallane_handoffs_pending{lane="other"} 3');
    expect(text).toContain('duallane_handoff_oldest_pending_age_seconds{lane="other"} 70');
    expect(text).toContain('duallane_audit_chain_intact{ledger="postgres"} 0');
    expect(text).toContain(`duallane_audit_chain_last_check_timestamp_seconds{ledger="postgres"} ${Date.parse('2026-11-24T04:00:00Z') / 1000}`);
    // the backlog clears when the next snapshot has none
    recordLedgerSnapshot({ ledger: 'postgres', pending: [] }, m);
    text = await m.render();
    expect(text).toContain('duallane_handoffs_pending{lane="codex"} 0');
    expect(text).toContain('duallane_handoff_oldest_pending_age_seconds{lane="codex"} 0');
  });
});
