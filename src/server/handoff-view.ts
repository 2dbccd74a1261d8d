import type { HandoffView as DomainHandoffView } from '../handoff/index.js';

/** Where a handoff stands with respect to verification, derived from its ledger state. */
export type VerificationStatus = 'pending' | 'verified' | 'rejected' | 'expired';

export function verificationOf(state: DomainHandoffView['state']): VerificationStatus {
  switch (state) {
    case 'proposed':
    case 'claimed':
      return 'pending';
    case 'verified':
    case 'applied':
    case 'pr_opened':
      return 'verified';
    case 'rejected':
      return 'rejected';
    case 'expired':
      return 'expired';
  }
}

/**
 * The API's view of a handoff: what `duallane handoff show --json` prints (the handoff module's
 * view), plus the verification status and the bundle's digest. The content store is addressed by
 * sha256, so the bundle's digest is the last segment of its path. Routes send it through
 * `ctx.redact` (server-paths.ts): remote clients see `.duallane/store/sha256/<hex>`, relative to the
 * config root, never the server's absolute paths.
 * Every string here may be attacker-influenced (the title is the proposer's): renderers escape.
 */
export type HandoffView = DomainHandoffView & { verification: VerificationStatus; bundleDigest: string | null };

export function toHandoffView(h: DomainHandoffView): HandoffView {
  const m = /sha256[/\\]([0-9a-f]{64})$/.exec(h.bundlePath);
  return { ...h, verification: verificationOf(h.state), bundleDigest: m ? `sha256:${m[1]}` : null };
}
