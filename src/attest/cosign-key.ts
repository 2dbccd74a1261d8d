import { createPrivateKey, scrypt, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { AttestError } from './attest-error.js';

/**
 * cosign's encrypted private key (`cosign generate-key-pair` -> cosign.key): a PEM block
 * `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is the
 * JSON of go-securesystemslib's `encrypted` package:
 *   {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":B64},
 *    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
 * The key is scrypt(password, salt, N, r, p, 32); the plaintext is a PKCS#8 DER private key.
 */
export const COSIGN_PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'] as const;

/**
 * The KDF parameters we are willing to run. cosign writes N=2^16 (2^15 before), r=8, p=1; the bounds
 * leave room for stronger settings while refusing a crafted file that would take gigabytes or minutes.
 */
const MAX_LOG2_N = 18;
const MAX_R = 16;
const MAX_P = 4;
const MAX_SCRYPT_MEM = 256 * 1024 * 1024; // 128 * N * r
const MAX_CIPHERTEXT = 16 * 1024;
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when the PEM text holds a cosign encrypted key block. */
export function isCosignKeyPem(pem: string): boolean {
  return COSIGN_PEM_TYPES.some((t) => pem.includes(`-----BEGIN ${t}-----`));
}

interface Envelope {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

/** Decrypts a cosign key; a wrong password, a corrupt file and out-of-bounds parameters are KEY_INVALID. */
export async function decryptCosignKey(pem: string, password: string | undefined, label: string): Promise<KeyObject> {
  const env = parseEnvelope(pem, label);
  if (password === undefined) {
    throw new AttestError('KEY_INVALID', `cannot load private key ${label}: it is a cosign key and no password was given (set COSIGN_PASSWORD)`);
  }
  const boxKey = await deriveKey(password, env);
  let der: Uint8Array;
  try {
    der = xsalsa20poly1305(boxKey, env.nonce).decrypt(env.ciphertext);
  } catch {
    throw new AttestError('KEY_INVALID', `cannot load private key ${label}: wrong password or corrupt cosign key`);
  } finally {
    boxKey.fill(0);
  }
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch {
    throw new AttestError('KEY_INVALID', `cannot load private key ${label}: the cosign key does not hold a PKCS#8 private key`);
  } finally {
    der.fill(0);
  }
}

function deriveKey(password: string, e: Envelope): Promise<Buffer> {
  const failed = (err: Error): AttestError => new AttestError('KEY_INVALID', `cosign key KDF failed: ${err.message}`);
  return new Promise((resolve, reject) => {
    try {
      scrypt(password, e.salt, 32, { N: e.n, r: e.r, p: e.p, maxmem: 128 * e.n * e.r + 1024 * 1024 }, (err, key) => {
        if (err) reject(failed(err));
        else resolve(key);
      });
    } catch (err) {
      reject(failed(err as Error));
    }
  });
}

function parseEnvelope(pem: string, label: string): Envelope {
  const bad = (why: string): AttestError => new AttestError('KEY_INVALID', `cannot load private key ${label}: ${why}`);
  const body = pemBody(pem);
  if (body === undefined) throw bad('not a complete cosign PEM block');
  const compact = body.replace(/\s+/g, '');
  if (!B64_RE.test(compact)) throw bad('the cosign PEM body is not base64');
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw bad('the cosign PEM body is not JSON');
  }
  const kdf = field(doc, 'kdf');
  const params = field(kdf, 'params');
  const cipher = field(doc, 'cipher');
  if (field(kdf, 'name') !== 'scrypt') throw bad('unsupported KDF (want scrypt)');
  if (field(cipher, 'name') !== 'nacl/secretbox') throw bad('unsupported cipher (want nacl/secretbox)');
  const n = field(params, 'N');
  const r = field(params, 'r');
  const p = field(params, 'p');
  if (!isInt(n) || n < 2 || n > 2 ** MAX_LOG2_N || (n & (n - 1)) !== 0) throw bad(`scrypt N must be a power of two <= 2^${MAX_LOG2_N}`);
  if (!isInt(r) || r < 1 || r > MAX_R) throw bad(`scrypt r must be 1..${MAX_R}`);
  if (!isInt(p) || p < 1 || p > MAX_P) throw bad(`scrypt p must be 1..${MAX_P}`);
  if (128 * n * r > MAX_SCRYPT_MEM) throw bad('scrypt parameters need more than 256 MiB');
  const salt = b64(field(kdf, 'salt'), 1, 1024);
  const nonce = b64(field(cipher, 'nonce'), 24, 24);
  const ciphertext = b64(field(doc, 'ciphertext'), 17, MAX_CIPHERTEXT);
  if (!salt) throw bad('missing or malformed scrypt salt');
  if (!nonce) throw bad('the secretbox nonce must be 24 bytes');
  if (!ciphertext) throw bad('missing or malformed ciphertext');
  return { n, r, p, salt, nonce, ciphertext };
}

/** The base64 body of the first cosign PEM block, or undefined when there is none or it is unterminated. */
function pemBody(pem: string): string | undefined {
  for (const t of COSIGN_PEM_TYPES) {
    const begin = `-----BEGIN ${t}-----`;
    const start = pem.indexOf(begin);
    if (start < 0) continue;
    const end = pem.indexOf(`-----END ${t}-----`, start + begin.length);
    return end < 0 ? undefined : pem.slice(start + begin.length, end);
  }
  return undefined;
}

function field(o: unknown, name: string): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[name] : undefined;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function b64(v: unknown, min: number, max: number): Buffer | undefined {
  if (typeof v !== 'string' || v.length > Math.ceil(max / 3) * 4 || !B64_RE.test(v)) return undefined;
  const buf = Buffer.from(v, 'base64');
  return buf.length >= min && buf.length <= max ? buf : undefined;
}
