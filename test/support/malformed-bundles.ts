import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attestStatement, generateKeyPair, makeStatement, sha256Hex, signBlob, SLSA_PROVENANCE_V1, type SerializedBundle } from '../../src/attest/index.js';

/** A key, an artifact, and a message-signature and a DSSE bundle over it, all valid. */
export async function signedPair(dir: string) {
  const { keyPath, pubPath } = await generateKeyPair({ lane: 'malformed', outDir: dir });
  const artifact = Buffer.from('malformed-bundle artifact\n');
  const artifactPath = join(dir, 'artifact.txt');
  await writeFile(artifactPath, artifact);
  const signer = { kind: 'key' as const, keyPath };
  const message = await signBlob(artifact, signer);
  const statement = makeStatement([{ name: 'artifact.txt', digest: { sha256: sha256Hex(artifact) } }], SLSA_PROVENANCE_V1, { runDetails: { builder: { id: 'https://example.invalid/b' } } });
  const dsse = await attestStatement(statement, signer);
  return { keyPath, pubPath, artifactPath, message, dsse };
}

type Pair = Awaited<ReturnType<typeof signedPair>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const clone = (b: SerializedBundle): Json => JSON.parse(JSON.stringify(b)) as Json;

/**
 * Each takes the valid pair and returns one malformed bundle. "Junk" is characters outside every
 * base64 alphabet, which Node's (and Go's lenient) decoders skip, leaving the signed bytes intact.
 */
export const malformedVariants = {
  'both messageSignature and dsseEnvelope (DSSE first)': (p: Pair) => ({ ...clone(p.dsse), messageSignature: clone(p.message).messageSignature }),
  'both messageSignature and dsseEnvelope (message first)': (p: Pair) => {
    const { mediaType, verificationMaterial, messageSignature } = clone(p.message);
    return { mediaType, verificationMaterial, messageSignature, dsseEnvelope: clone(p.dsse).dsseEnvelope };
  },
  'DSSE payload with junk appended': (p: Pair) => {
    const b = clone(p.dsse);
    b.dsseEnvelope.payload += '!!';
    return b;
  },
  'DSSE payload with junk inside': (p: Pair) => {
    const b = clone(p.dsse);
    const s: string = b.dsseEnvelope.payload;
    b.dsseEnvelope.payload = `${s.slice(0, 8)}*%*${s.slice(8)}`;
    return b;
  },
  'DSSE signature with junk': (p: Pair) => {
    const b = clone(p.dsse);
    b.dsseEnvelope.signatures[0].sig = ` ${b.dsseEnvelope.signatures[0].sig}#`;
    return b;
  },
  'message signature with junk': (p: Pair) => {
    const b = clone(p.message);
    b.messageSignature.signature += '$';
    return b;
  },
  'message digest with junk': (p: Pair) => {
    const b = clone(p.message);
    b.messageSignature.messageDigest.digest = `@${b.messageSignature.messageDigest.digest}`;
    return b;
  },
};
