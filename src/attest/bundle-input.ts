import { readFile, stat } from 'node:fs/promises';
import { assertBundle, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { AttestError } from './attest-error.js';

/** Bundles are small (KiBs); anything past this is an attack or a mistake, never read into memory. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/** Reads a bundle file with a size bound before parsing; errors name the file. */
export async function readBundleFile(path: string): Promise<unknown> {
  const unreadable = (cause: unknown) =>
    new AttestError('INPUT_UNREADABLE', `cannot read bundle ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  let st;
  try {
    st = await stat(path);
  } catch (cause) {
    throw unreadable(cause);
  }
  if (!st.isFile()) throw new AttestError('INPUT_UNREADABLE', `cannot read bundle ${path}: not a regular file`);
  if (st.size > MAX_BUNDLE_BYTES) {
    throw new AttestError('INPUT_TOO_LARGE', `bundle ${path} is ${st.size} bytes; the limit is ${MAX_BUNDLE_BYTES}`);
  }
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw unreadable(cause);
  });
  return parseBundleText(text, path);
}

export function parseBundleText(text: string, label = 'bundle'): unknown {
  if (Buffer.byteLength(text) > MAX_BUNDLE_BYTES) {
    throw new AttestError('INPUT_TOO_LARGE', `${label} is larger than ${MAX_BUNDLE_BYTES} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AttestError('BUNDLE_MALFORMED', `${label} is not JSON (truncated or corrupt?)`, { cause });
  }
}

/**
 * Turns attacker-controlled JSON into a structurally valid Sigstore bundle, or says which field is
 * wrong. Nothing here trusts the content; it only guarantees the shape the verifier relies on.
 */
export function toBundle(json: unknown, label = 'bundle'): Bundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AttestError('BUNDLE_MALFORMED', `${label} is not a JSON object`);
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
    assertBundle(bundle);
  } catch (cause) {
    const fields = (cause as { fields?: string[] }).fields;
    throw new AttestError('BUNDLE_MALFORMED', `${label} is not a valid Sigstore bundle${fields?.length ? ` (invalid: ${fields.join(', ')})` : ''}`, { cause });
  }
  if (!bundle.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    throw new AttestError('BUNDLE_MALFORMED', `${label} has unknown media type ${JSON.stringify(bundle.mediaType).slice(0, 100)}`);
  }
  return bundle;
}
