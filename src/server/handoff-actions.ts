import type { DuallaneConfig } from '../config/index.js';
import { accept, listHandoffs, makeContext, propose, showHandoff, submit, type HandoffContext, type HandoffView } from '../handoff/index.js';
import type { HandoffState, Ledger } from '../ledger/index.js';

export interface ProposeInput {
  lane: string;
  title: string;
  summary?: string;
  base?: string;
  patch: Buffer;
  expiresInMs?: number;
  targetBranch?: string;
}

/** What the API asks of the handoff module: the very functions the CLI calls. */
export interface HandoffActions {
  propose(input: ProposeInput): Promise<{ id: string } & Record<string, unknown>>;
  submit(input: { bundleText: string; artifact: Buffer }): Promise<{ id: string; lane: string } & Record<string, unknown>>;
  accept(input: { lane: string; id: string }): Promise<{ id: string } & Record<string, unknown>>;
  /** The oldest pending handoff (NOTHING_PENDING when there is none). */
  acceptNext(input: { lane: string }): Promise<{ id: string } & Record<string, unknown>>;
  list(input: { lane: string; state?: HandoffState; limit?: number }): Promise<HandoffView[]>;
  show(input: { lane: string; id: string }): Promise<HandoffView>;
}

/**
 * The handoff module's propose, submit, accept, list and show over one context (config, ledger, store,
 * repository). No state machine here: the server only translates HTTP into these calls.
 */
export function handoffActions(config: DuallaneConfig, ledger: Ledger, opts: Partial<Omit<HandoffContext, 'config' | 'ledger'>> = {}): HandoffActions {
  const ctx = makeContext(config, ledger, opts);
  return {
    async propose(i) {
      const r = await propose(ctx, {
        lane: i.lane,
        title: i.title,
        source: { kind: 'patch', bytes: i.patch },
        // A remote client must not learn anything about refs it cannot read: see ProposeOptions.
        requireBaseOnTarget: true,
        ...(i.summary !== undefined ? { summary: i.summary } : {}),
        ...(i.base !== undefined ? { base: i.base } : {}),
        ...(i.expiresInMs !== undefined ? { expiresInMs: i.expiresInMs } : {}),
        ...(i.targetBranch !== undefined ? { targetBranch: i.targetBranch } : {}),
      });
      return { ...r };
    },
    async submit(i) {
      return { ...(await submit(ctx, { bundleText: i.bundleText, artifact: i.artifact })) };
    },
    async accept(i) {
      return { ...(await accept(ctx, { lane: i.lane, target: { id: i.id } })) };
    },
    async acceptNext(i) {
      return { ...(await accept(ctx, { lane: i.lane, target: { next: true } })) };
    },
    list: (i) => listHandoffs(ctx, { lane: i.lane, ...(i.state ? { state: i.state } : {}), ...(i.limit ? { limit: i.limit } : {}) }),
    show: (i) => showHandoff(ctx, i.id, { lane: i.lane }),
  };
}
