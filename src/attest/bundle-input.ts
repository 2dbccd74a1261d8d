import { assertBundle, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { InputError, readBoundedText } from '../config/index.js';
import { AttestError } from './attest-error.js';

/** Bundles are small (KiBs); anything past this is an attack or a mistake, never read into memory. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/** Reads a bundle file with a size bound before parsing; errors name the file. */
export async function readBundleFile(path: string): Promise<unknown> {
  return parseBundleText(await readAttestInput(path, MAX_BUNDLE_BYTES, 'bundle'), path);
}

/** A bounded read (see readBoundedFile) whose errors are this module's, with the same code names. */
export async function readAttestInput(path: string, maxBytes: number, what: string): Promise<string> {
  try {
    return await readBoundedText(path, { maxBytes, what });
  } catch (e) {
    if (e instanceof InputError && (e.code === 'INPUT_TOO_LARGE' || e.code === 'INPUT_UNREADABLE')) throw new AttestError(e.code, e.message, { cause: e.cause, details: e.details });
    throw e;
  }
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
  assertStrictContent(json as Record<string, unknown>, label);
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

/**
 * What the protobuf JSON reader forgives and the bundle spec does not: `content` is a oneof (a reader
 * keeps one of two and the bundle then says two things), and bytes fields are base64 (Node's decoder
 * skips characters outside the alphabet, so junk around a valid payload would still verify).
 */
function assertStrictContent(json: Record<string, unknown>, label: string): void {
  const present = ['messageSignature', 'dsseEnvelope'].filter((k) => json[k] !== undefined && json[k] !== null);
  if (present.length > 1) {
    throw new AttestError('BUNDLE_MALFORMED', `${label} has both messageSignature and dsseEnvelope; a bundle holds exactly one`);
  }
  const ms = json.messageSignature as { signature?: unknown; messageDigest?: { digest?: unknown } } | undefined;
  const env = json.dsseEnvelope as { payload?: unknown; signatures?: unknown } | undefined;
  const fields: [string, unknown][] = [
    ['messageSignature.signature', ms?.signature],
    ['messageSignature.messageDigest.digest', ms?.messageDigest?.digest],
    ['dsseEnvelope.payload', env?.payload],
    ...(Array.isArray(env?.signatures) ? env.signatures.map((sg, i): [string, unknown] => [`dsseEnvelope.signatures[${i}].sig`, (sg as { sig?: unknown } | null)?.sig]) : []),
  ];
  for (const [path, v] of fields) {
    if (v !== undefined && !isBase64(v)) throw new AttestError('BUNDLE_MALFORMED', `${label}: ${path} is not base64`);
  }
}

// Standard or URL-safe alphabet, optional padding, as protobuf JSON allows; a linear-time check.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
function isBase64(v: unknown): boolean {
  return typeof v === 'string' && BASE64.test(v) && v.replace(/=+$/, '').length % 4 !== 1;
}
