import type { Command } from 'commander';
import {
  digestFile,
  isDigest,
  readBundleFile,
  verifyBundle,
  AttestError,
  type VerifyResult,
} from '../attest/index.js';
import { InputError, readBoundedText } from '../config/index.js';
import { makePrinter } from './output.js';
import { addTrustFlags, trustFromFlags, type TrustFlags } from './trust-flags.js';

interface VerifyFlags extends TrustFlags {
  bundle?: string;
  predicateType?: string;
  builderId?: string;
  sourceUri?: string;
  sourceRef?: string;
  signerWorkflow?: string;
  tlogThreshold?: string;
  timestampThreshold?: string;
  batch?: string;
  json?: boolean;
}

function threshold(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v)) throw new InputError('BAD_USAGE', `${flag} must be a small non-negative integer`);
  return Number(v);
}

/** FILE_OR_DIGEST per the Sigstore conformance CLI: `sha256:` + 64 hex is a digest, anything else a path. */
async function subjectDigest(fileOrDigest: string): Promise<string> {
  return isDigest(fileOrDigest) ? fileOrDigest : digestFile(fileOrDigest);
}

function summary(r: VerifyResult): Record<string, unknown> {
  return {
    ok: true,
    kind: r.kind,
    digest: r.digest,
    signer: r.signer,
    ...(r.statement ? { predicateType: r.statement.predicateType, subjects: r.statement.subject } : {}),
  };
}

export function registerVerifyCommand(program: Command): void {
  addTrustFlags(program
    .command('verify'))
    .description('verify a Sigstore bundle for FILE_OR_DIGEST (sha256:<hex> is a digest, anything else a path)')
    .argument('[file-or-digest]', 'artifact path or sha256:<64 hex>')
    .option('--bundle <file>', 'Sigstore bundle (JSON)')
    .option('--predicate-type <uri>', 'require this in-toto predicate type')
    .option('--builder-id <id>', 'require this SLSA builder id (exact, id without @ref for any ref, or id@refs/tags/* for any tag)')
    .option('--source-uri <uri>', 'require this SLSA source repository (e.g. github.com/org/repo)')
    .option('--source-ref <ref>', 'require this SLSA source ref (e.g. refs/tags/v1.0.0)')
    .option('--signer-workflow <uri>', 'require this Fulcio Build Signer URI (OID 1.3.6.1.4.1.57264.1.9)')
    .option('--tlog-threshold <n>', 'minimum transparency-log entries (keyless default 1, key default 0)')
    .option('--timestamp-threshold <n>', 'minimum verified timestamps (keyless default 1, key default 0)')
    .option('--batch <file>', 'verify many: each line "FILE_OR_DIGEST BUNDLE"; one result per line')
    .option('--json', 'machine-readable output')
    .action(async (fileOrDigest: string | undefined, f: VerifyFlags) => {
      const out = makePrinter(Boolean(f.json));
      const trust = await trustFromFlags(f);
      if (!trust) throw new InputError('BAD_USAGE', 'give --key PUB, or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]');
      const expectations = {
        trust,
        predicateType: f.predicateType,
        builderId: f.builderId,
        sourceUri: f.sourceUri,
        sourceRef: f.sourceRef,
        signerWorkflow: f.signerWorkflow,
        tlogThreshold: threshold(f.tlogThreshold, '--tlog-threshold'),
        timestampThreshold: threshold(f.timestampThreshold, '--timestamp-threshold'),
      };
      if (f.batch) {
        if (fileOrDigest || f.bundle) throw new InputError('BAD_USAGE', '--batch takes its artifacts and bundles from the file');
        const results = await verifyBatchFile(f.batch, expectations);
        const failed = results.filter((r) => !r.ok).length;
        out.result({ ok: failed === 0, verified: results.length - failed, rejected: failed, results }, () => [
          ...results.filter((r) => !r.ok).map((r) => `REJECTED ${r.subject} ${r.bundle}: ${r.code}: ${r.message}`),
          `${results.length - failed} verified, ${failed} rejected`,
        ]);
        if (failed > 0) process.exitCode = 1;
        return;
      }
      if (!fileOrDigest) throw new InputError('BAD_USAGE', 'missing FILE_OR_DIGEST');
      if (!f.bundle) throw new InputError('BAD_USAGE', 'missing --bundle');
      const bundle = await readBundleFile(f.bundle);
      const digest = await subjectDigest(fileOrDigest);
      const r = await verifyBundle(bundle, { ...expectations, digest });
      out.result(summary(r), () => {
        const who = r.signer.kind === 'key' ? `key ${r.signer.keyId.slice(0, 16)}` : `${r.signer.identity} (${r.signer.issuer})`;
        return [`Verified OK: ${r.digest} signed by ${who}${r.statement ? `, predicate ${r.statement.predicateType}` : ''}`];
      });
    });
}

/** A batch list names files, one pair a line: 16 MiB is far past any real list. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface BatchLineResult {
  subject: string;
  bundle: string;
  ok: boolean;
  code?: string;
  message?: string;
}

async function verifyBatchFile(path: string, expectations: Omit<Parameters<typeof verifyBundle>[1], 'digest' | 'artifact'>): Promise<BatchLineResult[]> {
  const text = await readBoundedText(path, { maxBytes: MAX_BATCH_BYTES, what: 'batch file' });
  const results: BatchLineResult[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new InputError('INPUT_INVALID', `${path}:${i + 1}: expected "FILE_OR_DIGEST BUNDLE"`);
    const [subject, bundlePath] = parts as [string, string];
    try {
      await verifyBundle(await readBundleFile(bundlePath), { ...expectations, digest: await subjectDigest(subject) });
      results.push({ subject, bundle: bundlePath, ok: true });
    } catch (e) {
      if (!(e instanceof AttestError) || e.outcome === 'environment') throw e;
      results.push({ subject, bundle: bundlePath, ok: false, code: e.code, message: e.message });
    }
  }
  return results;
}
