import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { AttestError, keyIdOf, parsePublicKey, verifyBundle, type Signer, type Statement, type VerifiedSigner } from '../attest/index.js';
import { getLane, lanesOfKind, resolveConfigPath, type DuallaneConfig, type LaneConfig, type LaneKind } from '../config/index.js';
import { HandoffError, type HandoffErrorCode } from './handoff-error.js';

/** The signer a lane signs with (its key from duallane.yaml, or keyless with the ambient token). */
export function signerForLane(config: DuallaneConfig, lane: LaneConfig, env: NodeJS.ProcessEnv): Signer {
  switch (lane.identity.kind) {
    case 'key':
      return { kind: 'key', keyPath: resolveConfigPath(config, lane.identity.privateKey), passphrase: env[`DUALLANE_${lane.name.toUpperCase().replace(/-/g, '_')}_KEY_PASSPHRASE`] };
    case 'keyless':
      // Token: SIGSTORE_ID_TOKEN, else the ambient GitHub Actions token. Services: Sigstore's
      // public-good instance unless SIGSTORE_FULCIO_URL / SIGSTORE_REKOR_URL / SIGSTORE_TSA_URL say otherwise.
      return {
        kind: 'keyless',
        identityToken: env.SIGSTORE_ID_TOKEN || undefined,
        fulcioURL: env.SIGSTORE_FULCIO_URL || 'https://fulcio.sigstore.dev',
        rekorURL: env.SIGSTORE_REKOR_URL || (env.SIGSTORE_TSA_URL ? undefined : 'https://rekor.sigstore.dev'),
        tsaURL: env.SIGSTORE_TSA_URL || undefined,
      };
  }
}

/** A lane of the expected kind, or LANE_KIND_MISMATCH (a propose lane cannot accept and vice versa). */
export function laneOfKind(config: DuallaneConfig, name: string, kind: LaneKind): LaneConfig {
  const lane = getLane(config, name);
  if (lane.kind !== kind) throw new HandoffError('LANE_KIND_MISMATCH', `lane ${name} is a ${lane.kind} lane; this needs a ${kind} lane`);
  return lane;
}

export interface LaneVerification {
  lane: LaneConfig;
  signer: VerifiedSigner;
  statement: Statement;
  /** sha256 of the signed DSSE payload (the statement's bytes): the handoff's identity for replay checks. */
  statementDigest: string;
}

const ATTEST_TO_HANDOFF: Partial<Record<string, HandoffErrorCode>> = {
  SUBJECT_MISMATCH: 'SUBJECT_MISMATCH',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  UNTRUSTED_SIGNER: 'UNTRUSTED_SIGNER',
  IDENTITY_MISMATCH: 'UNTRUSTED_SIGNER',
  ISSUER_MISMATCH: 'UNTRUSTED_SIGNER',
  PREDICATE_TYPE_MISMATCH: 'PREDICATE_TYPE_MISMATCH',
  PAYLOAD_INVALID: 'PREDICATE_INVALID',
  BUNDLE_MALFORMED: 'SIGNATURE_INVALID',
};

/**
 * Verifies a bundle as signed by one of the lanes of `kind` (by key: the bundle's key hint picks the
 * lane, and only that lane's configured key is tried; keyless: the lane's issuer and subject).
 * The bundle is attacker-controlled: nothing in it is trusted before verifyBundle returns.
 */
export async function verifyLaneBundle(
  config: DuallaneConfig,
  kind: LaneKind,
  bundle: unknown,
  subject: { artifact: Buffer } | { digest: string },
  predicateType: string,
  opts: { trustedRoot?: object } = {},
): Promise<LaneVerification> {
  const lanes = lanesOfKind(config, kind);
  const hint = keyHintOf(bundle);
  let lastError: unknown;
  for (const lane of lanes) {
    let trust: Parameters<typeof verifyBundle>[1]['trust'];
    if (lane.identity.kind === 'key') {
      const pem = await readFile(resolveConfigPath(config, lane.identity.publicKey), 'utf8').catch((cause) => {
        throw new HandoffError('INPUT_UNREADABLE', `cannot read lane ${lane.name}'s public key`, { cause });
      });
      if (hint !== undefined && keyIdOf(parsePublicKey(pem)) !== hint) continue;
      trust = { kind: 'key', publicKeyPem: pem };
    } else {
      if (hint !== undefined) continue;
      trust = { kind: 'keyless', trustedRoot: opts.trustedRoot, identity: lane.identity.subject, issuer: lane.identity.issuer };
    }
    try {
      const r = await verifyBundle(bundle, { ...subject, trust, predicateType, lane: lane.name });
      if (!r.statement) throw new HandoffError('PREDICATE_INVALID', 'the bundle signs a blob, not an in-toto statement');
      return { lane, signer: r.signer, statement: r.statement, statementDigest: statementDigestOf(bundle) };
    } catch (e) {
      lastError = e;
      if (e instanceof AttestError && (e.code === 'IDENTITY_MISMATCH' || e.code === 'ISSUER_MISMATCH' || e.code === 'UNTRUSTED_SIGNER')) continue;
      throw toHandoffError(e);
    }
  }
  if (lastError) throw toHandoffError(lastError);
  throw new HandoffError('UNTRUSTED_SIGNER', `the bundle is not signed by any ${kind} lane (${lanes.map((l) => l.name).join(', ')})`);
}

export function toHandoffError(e: unknown): unknown {
  if (e instanceof AttestError) {
    const code = ATTEST_TO_HANDOFF[e.code];
    if (code) return new HandoffError(code, e.message, { cause: e });
  }
  return e;
}

function keyHintOf(bundle: unknown): string | undefined {
  const hint = (bundle as { verificationMaterial?: { publicKey?: { hint?: unknown } } })?.verificationMaterial?.publicKey?.hint;
  return typeof hint === 'string' ? hint : undefined;
}

/** sha256 of a DSSE bundle's payload bytes, as `sha256:<hex>`. */
export function statementDigestOf(bundle: unknown): string {
  const payload = (bundle as { dsseEnvelope?: { payload?: unknown } })?.dsseEnvelope?.payload;
  if (typeof payload !== 'string') throw new HandoffError('PREDICATE_INVALID', 'the bundle has no DSSE payload');
  return `sha256:${createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex')}`;
}
