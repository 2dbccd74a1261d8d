import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  attestStatement,
  makeStatement,
  provenanceFromEnvironment,
  sha256Hex,
  signBlob,
  SLSA_PROVENANCE_V1,
  type SerializedBundle,
} from '../attest/index.js';
import { InputError, readBoundedFile, readBoundedText } from '../config/index.js';
import { makePrinter } from './output.js';
import { addSigningFlags, signerFromFlags, type SigningFlags } from './signing-flags.js';
import { basename } from 'node:path';
import { addRegistryFlags, registryClientFromFlags, type RegistryFlags } from './registry-flags.js';
import { assertOneSubject, attestImage, signImage } from './sign-image.js';

/** Artifacts are signed in memory (a message signature covers the bytes); past this, refuse clearly. */
const MAX_SIGN_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

function readArtifact(path: string): Promise<Buffer> {
  return readBoundedFile(path, { maxBytes: MAX_SIGN_BYTES, what: 'artifact' });
}

async function writeBundle(path: string, bundle: SerializedBundle): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(bundle, null, 2) + '\n');
  } catch (cause) {
    throw new InputError('INPUT_UNREADABLE', `cannot write bundle ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

function describeBundle(b: SerializedBundle): Record<string, unknown> {
  const vm = b.verificationMaterial;
  return {
    mediaType: b.mediaType,
    signer: vm?.publicKey ? { kind: 'key', keyId: vm.publicKey.hint } : { kind: 'certificate' },
    tlogEntries: vm?.tlogEntries?.length ?? 0,
    timestamps: vm?.timestampVerificationData?.rfc3161Timestamps?.length ?? 0,
  };
}

export function registerSignCommands(program: Command): void {
  addRegistryFlags(
    addSigningFlags(
      program
        .command('sign')
        .description('sign FILE (a Sigstore bundle v0.3 holding a message signature), or an image in a registry the way cosign does (--image)')
        .argument('[file]', 'artifact to sign')
        .option('--bundle <out>', 'FILE: where to write the bundle (JSON)')
        .option('--image <ref>', 'sign this image instead: REGISTRY/REPO[:TAG|@sha256:...] (a tag is resolved; its digest is signed)'),
    ),
  )
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, opts: SigningFlags & RegistryFlags & { bundle?: string; image?: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      assertOneSubject(file, opts);
      const signer = signerFromFlags(opts);
      if (opts.image !== undefined) {
        const r = await signImage(registryClientFromFlags(opts), opts.image, signer);
        out.result({ ok: true, ...r }, () => `signed ${String(r.image)} -> ${String(r.sigTag)}`);
        return;
      }
      if (file === undefined || opts.bundle === undefined) return;
      const data = await readArtifact(file);
      const bundle = await signBlob(data, signer);
      await writeBundle(opts.bundle, bundle);
      out.result({ file, digest: `sha256:${sha256Hex(data)}`, bundle: opts.bundle, ...describeBundle(bundle) }, () => `signed ${file} -> ${opts.bundle}`);
    });

  addRegistryFlags(
    addSigningFlags(
      program
        .command('attest')
        .description('attest FILE, or an image in a registry (--image): DSSE envelope over an in-toto Statement v1 whose subject is it')
        .argument('[file]', 'artifact (the statement subject)')
        .option('--bundle <out>', 'FILE: where to write the bundle (JSON)')
        .option('--image <ref>', 'attest this image instead: REGISTRY/REPO[:TAG|@sha256:...], stored the way cosign attest stores it')
        .option('--predicate-type <type>', '"slsa" (SLSA Provenance v1) or a predicate type URI', 'slsa')
        .option('--predicate <file.json>', 'predicate JSON; with --predicate-type slsa and no file, provenance is generated from the environment')
        .option('--builder-id <id>', 'builder.id for generated provenance (default: the GitHub workflow, or the local builder)'),
    ),
  )
    .option('--json', 'machine-readable output')
    .action(
      async (
        file: string | undefined,
        opts: SigningFlags & RegistryFlags & { bundle?: string; image?: string; predicateType: string; predicate?: string; builderId?: string; json?: boolean },
      ) => {
        const out = makePrinter(Boolean(opts.json));
        const startedOn = new Date();
        assertOneSubject(file, opts);
        const signer = signerFromFlags(opts);
        const predicateType = opts.predicateType === 'slsa' ? SLSA_PROVENANCE_V1 : opts.predicateType;
        if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(predicateType)) {
          throw new InputError('BAD_USAGE', `--predicate-type must be "slsa" or a URI, got ${JSON.stringify(opts.predicateType)}`);
        }
        const data = file !== undefined ? await readArtifact(file) : undefined;
        let predicate: Record<string, unknown>;
        if (opts.predicate) {
          predicate = await readPredicate(opts.predicate);
        } else if (predicateType === SLSA_PROVENANCE_V1) {
          predicate = await provenanceFromEnvironment({ startedOn, builderId: opts.builderId });
        } else {
          throw new InputError('BAD_USAGE', '--predicate FILE is required for a predicate type other than slsa');
        }
        if (opts.image !== undefined) {
          const r = await attestImage(registryClientFromFlags(opts), opts.image, predicateType, predicate, signer);
          out.result({ ok: true, ...r }, () => `attested ${String(r.image)} (${predicateType}) -> ${String(r.attTag)}`);
          return;
        }
        if (file === undefined || data === undefined || opts.bundle === undefined) return;
        const statement = makeStatement([{ name: basename(file), digest: { sha256: sha256Hex(data) } }], predicateType, predicate);
        const bundle = await attestStatement(statement, signer);
        await writeBundle(opts.bundle, bundle);
        out.result(
          { file, digest: `sha256:${sha256Hex(data)}`, bundle: opts.bundle, predicateType, ...describeBundle(bundle) },
          () => `attested ${file} (${predicateType}) -> ${opts.bundle}`,
        );
      },
    );
}

async function readPredicate(path: string): Promise<Record<string, unknown>> {
  const text = await readBoundedText(path, { maxBytes: MAX_PREDICATE_BYTES, what: 'predicate' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InputError('INPUT_INVALID', `predicate ${path} is not JSON`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError('INPUT_INVALID', `predicate ${path} must be a JSON object`);
  }
  return json as Record<string, unknown>;
}
