import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/**
 * Tampered copies of a Sigstore bundle, for checking that a verifier refuses each change. Every copy is
 * still well-formed (valid base64, one content), so the refusal is about the change, not the shape.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export type Tamper = 'signature' | 'subject';

export function tamper(bundle: Json, how: Tamper): Json {
  const b = JSON.parse(JSON.stringify(bundle)) as Json;
  const flip = (b64: string) => {
    const raw = Buffer.from(b64, 'base64');
    const i = Math.floor(raw.length / 2);
    raw[i] = (raw[i] ?? 0) ^ 0x01;
    return raw.toString('base64');
  };
  if (how === 'signature') {
    if (b.dsseEnvelope) b.dsseEnvelope.signatures[0].sig = flip(b.dsseEnvelope.signatures[0].sig);
    else b.messageSignature.signature = flip(b.messageSignature.signature);
    return b;
  }
  // subject: the statement (or the signed message digest) now names another artifact.
  const other = createHash('sha256').update('another artifact\n').digest();
  if (b.dsseEnvelope) {
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8')) as Json;
    st.subject[0].digest = { sha256: other.toString('hex') };
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
  } else {
    b.messageSignature.messageDigest.digest = other.toString('base64');
  }
  return b;
}

export async function writeJson(path: string, v: unknown): Promise<string> {
  await writeFile(path, JSON.stringify(v, null, 2));
  return path;
}
