import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { readBundleFile, verifyBundle } from '../attest/index.js';
import { InputError, readBoundedFile } from '../config/index.js';
import { createPolicyBundle, MAX_BUNDLE_BYTES, readPolicyBundle } from '../policy/bundle.js';
import { pullPolicyBundle, pushPolicyBundle } from '../policy/bundle-oci.js';
import { parseImageReference } from '../registry/index.js';
import { writeOutputFile } from './cli-files.js';
import { makePrinter } from './output.js';
import { getPolicyCommand } from './policy.js';
import { addRegistryFlags, addTrustFlags, registryClientFromFlags, trustFromFlags, type RegistryFlags, type TrustFlags } from './registry-flags.js';
import { addSigningFlags, signerFromFlags, type SigningFlags } from './signing-flags.js';

function readBundleArtifact(file: string): Promise<Buffer> {
  return readBoundedFile(file, { maxBytes: MAX_BUNDLE_BYTES, what: 'policy bundle' });
}

function createdFrom(sourceDateEpoch: string | undefined): { created?: string } {
  if (sourceDateEpoch === undefined || sourceDateEpoch === '') return {};
  if (!/^\d{1,12}$/.test(sourceDateEpoch)) throw new InputError('BAD_USAGE', 'SOURCE_DATE_EPOCH must be whole seconds since 1970');
  return { created: new Date(Number(sourceDateEpoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** --out must not name a directory; checked before any network or packing work. */
async function refuseDirectoryOut(path: string): Promise<void> {
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new InputError('OUTPUT_UNWRITABLE', `--out ${path} is a directory; give a file path`);
}

/** `policy bundle | verify-bundle | push | pull`: the signed policy bundle's life cycle. */
export function registerPolicyBundleCommands(program: Command): void {
  const policy = getPolicyCommand(program);

  policy
    .command('bundle')
    .description('pack a policy directory into a deterministic tar.gz (same policies -> same digest)')
    .argument('<dir>', 'policy directory')
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--json', 'print {file, digest, size, files} as JSON')
    .action(async (dir: string, opts: { out: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      await refuseDirectoryOut(opts.out);
      const b = await createPolicyBundle(dir);
      await writeOutputFile(opts.out, b.data, '--out');
      out.result({ ok: true, file: opts.out, digest: b.digest, size: b.data.length, files: b.files }, () => `${b.digest}  ${opts.out} (${b.files.length} files)`);
    });

  addTrustFlags(
    policy
      .command('verify-bundle')
      .description('verify a policy bundle against its Sigstore bundle before deploying it')
      .argument('<file>', 'policy bundle (tar.gz)')
      .requiredOption('--bundle <file>', 'Sigstore bundle produced by `duallane sign`'),
  )
    .option('--json', 'print the verification result as JSON')
    .action(async (file: string, opts: TrustFlags & { bundle: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const trust = await trustFromFlags(opts);
      if (!trust) throw new InputError('BAD_USAGE', 'give --key PUB, or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]');
      const data = await readBundleArtifact(file);
      const r = await verifyBundle(await readBundleFile(opts.bundle), { artifact: data, trust });
      // Only a verified bundle is opened: its entries must be plain relative files.
      const files = await readPolicyBundle(data);
      out.result({ ok: true, file, digest: r.digest, signer: r.signer, files: [...files.keys()] }, () => `verified ${file} ${r.digest} (${files.size} files)`);
    });

  addRegistryFlags(
    addSigningFlags(
      policy
        .command('push')
        .description('push a policy bundle as a Flux OCI artifact and sign it where cosign and Flux look (.sig tag and referrers)')
        .argument('<file>', 'policy bundle (tar.gz)')
        .argument('<reference>', 'REGISTRY/REPO:TAG'),
    ),
  )
    .option('--unsigned', 'push without signing (not recommended)')
    .option('--source <url>', 'org.opencontainers.image.source annotation')
    .option('--revision <rev>', 'org.opencontainers.image.revision annotation')
    .option('--json', 'print the pushed digests as JSON')
    .action(async (file: string, reference: string, opts: SigningFlags & RegistryFlags & { unsigned?: boolean; source?: string; revision?: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const ref = parseImageReference(reference);
      const data = await readBundleArtifact(file);
      await readPolicyBundle(data); // refuse to publish something that is not a policy bundle
      const signer = opts.unsigned ? undefined : signerFromFlags(opts);
      const client = registryClientFromFlags(opts);
      const r = await pushPolicyBundle(client, ref, data, {
        ...(signer ? { signer } : {}),
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.revision ? { revision: opts.revision } : {}),
        // Only from SOURCE_DATE_EPOCH (flux push artifact writes the push time): without it the same
        // bundle gives the same manifest digest, so a signature made once applies to every push of it.
        ...createdFrom(process.env.SOURCE_DATE_EPOCH),
      });
      out.result({ ok: true, ...r }, () => [`pushed ${r.reference}@${r.digest}`, ...(r.signature ? [`signed: ${r.signature.sigTag}, referrers ${r.signature.referrers.join(', ')}`] : [])]);
    });

  addRegistryFlags(
    addTrustFlags(
      policy
        .command('pull')
        .description('pull a policy bundle; with --key or --certificate-* its signature is verified first and nothing unverified is written')
        .argument('<reference>', 'REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:...')
        .requiredOption('--out <file>', 'where to write the bundle'),
    ),
  )
    .option('--json', 'print the pulled digests as JSON')
    .action(async (reference: string, opts: TrustFlags & RegistryFlags & { out: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const ref = parseImageReference(reference);
      await refuseDirectoryOut(opts.out);
      const trust = await trustFromFlags(opts);
      const client = registryClientFromFlags(opts);
      const r = await pullPolicyBundle(client, ref, trust ? { trust } : {});
      const files = await readPolicyBundle(r.data);
      await writeOutputFile(opts.out, r.data, '--out');
      out.result(
        { ok: true, file: opts.out, digest: r.digest, layerDigest: r.layerDigest, verified: Boolean(r.verification), ...(r.verification ? { signer: r.verification.result.signer, via: r.verification.via } : {}), files: [...files.keys()] },
        () => `${r.verification ? 'verified' : 'UNVERIFIED'} ${reference}@${r.digest} -> ${opts.out} (${files.size} files)`,
      );
    });
}
