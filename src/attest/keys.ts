import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { AttestError } from './attest-error.js';
import { readAttestInput } from './bundle-input.js';
import { decryptCosignKey, isCosignKeyPem } from './cosign-key.js';

export interface GenerateKeyPairOptions {
  lane: string;
  outDir?: string;
  /** When set, the private key is encrypted (PKCS#8 PBES2, AES-256-CBC; readable by `openssl pkey`). */
  passphrase?: string;
}

const LANE_RE = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Writes DIR/LANE.key (ECDSA P-256, PKCS#8 PEM, mode 0600) and DIR/LANE.pub (SPKI PEM).
 * Never overwrites: both files are created with O_EXCL, so a concurrent run cannot clobber a key.
 */
export async function generateKeyPair(opts: GenerateKeyPairOptions): Promise<{ keyPath: string; pubPath: string; keyId: string }> {
  if (!LANE_RE.test(opts.lane)) {
    throw new AttestError('BAD_USAGE', `lane name ${JSON.stringify(opts.lane)} must match ${LANE_RE.source}`);
  }
  const outDir = opts.outDir ?? '.duallane/keys';
  try {
    await mkdir(outDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    // A file in the way (EEXIST, ENOTDIR) or no permission: the --out the user gave cannot hold keys.
    throw new AttestError('INPUT_UNREADABLE', `cannot create key directory ${outDir}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const keyPath = join(outDir, `${opts.lane}.key`);
  const pubPath = join(outDir, `${opts.lane}.pub`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export(
    opts.passphrase
      ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: opts.passphrase }
      : { format: 'pem', type: 'pkcs8' },
  ) as string;
  const pubPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  await writeExclusive(keyPath, keyPem, 0o600);
  await writeExclusive(pubPath, pubPem, 0o644);
  return { keyPath, pubPath, keyId: keyIdOf(publicKey) };
}

async function writeExclusive(path: string, content: string, mode: number): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AttestError('KEY_EXISTS', `${path} already exists; refusing to overwrite a key`, { cause });
    }
    throw new AttestError('INPUT_UNREADABLE', `cannot create ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

const keyIds = new WeakMap<KeyObject, string>();

/** The key id used as the bundle's public-key hint: hex sha256 of the SPKI DER encoding (memoized: export is costly). */
export function keyIdOf(publicKey: KeyObject): string {
  let id = keyIds.get(publicKey);
  if (id === undefined) {
    id = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
    keyIds.set(publicKey, id);
  }
  return id;
}

export interface LoadPrivateKeyOptions {
  /** Password for a cosign key (`ENCRYPTED SIGSTORE PRIVATE KEY`) when no passphrase is given: cosign's COSIGN_PASSWORD. */
  cosignPassword?: string;
  /** Where `env://VAR` key references are looked up (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads a P-256 private key: our PKCS#8 (or SEC1) PEM, optionally encrypted, or cosign's encrypted
 * key. `source` is a file path or `env://VAR` (the PEM itself in the environment variable VAR, as
 * cosign reads it). The passphrase and the key never appear in errors.
 */
export async function loadPrivateKey(source: string, passphrase?: string, opts: LoadPrivateKeyOptions = {}): Promise<KeyObject> {
  const pem = await readPrivateKeySource(source, opts.env ?? process.env);
  if (isCosignKeyPem(pem)) {
    const key = await decryptCosignKey(pem, passphrase ?? opts.cosignPassword, source);
    assertP256(key, source);
    return key;
  }
  try {
    const key = createPrivateKey(passphrase ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
    assertP256(key, source);
    return key;
  } catch (cause) {
    if (cause instanceof AttestError) throw cause;
    const encrypted = pem.includes('ENCRYPTED');
    const why = encrypted && !passphrase ? 'it is encrypted and no passphrase was given' : encrypted ? 'wrong passphrase or corrupt key' : 'not a PEM private key';
    throw new AttestError('KEY_INVALID', `cannot load private key ${source}: ${why}`);
  }
}

const ENV_PREFIX = 'env://';
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

async function readPrivateKeySource(source: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!source.startsWith(ENV_PREFIX)) return readKeyFile(source);
  const name = source.slice(ENV_PREFIX.length);
  if (!ENV_NAME_RE.test(name)) throw new AttestError('BAD_USAGE', `${JSON.stringify(source)} is not env://NAME with an environment variable name`);
  const value = env[name];
  if (value === undefined || value === '') throw new AttestError('KEY_INVALID', `${source}: environment variable ${name} is not set`);
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) throw new AttestError('KEY_INVALID', `${source}: larger than 64 KiB`);
  return value;
}

/** Loads an SPKI PEM public key (or derives it from a certificate or private key PEM). */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  return parsePublicKey(await readKeyFile(path), path);
}

const parsedKeys = new Map<string, KeyObject>();

/** Parses a PEM public key; the same PEM yields the same KeyObject (verification of many bundles reuses it). */
export function parsePublicKey(pem: string, label = 'public key'): KeyObject {
  const cached = parsedKeys.get(pem);
  if (cached) return cached;
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    assertP256(key, label);
    if (parsedKeys.size < 64) parsedKeys.set(pem, key);
    return key;
  } catch (cause) {
    if (cause instanceof AttestError) throw cause;
    throw new AttestError('KEY_INVALID', `${label} is not a PEM public key`);
  }
}

function assertP256(key: KeyObject, label: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new AttestError('KEY_INVALID', `${label}: only ECDSA P-256 keys are supported (got ${key.asymmetricKeyType ?? 'unknown'})`);
  }
}

const MAX_KEY_BYTES = 64 * 1024;

async function readKeyFile(path: string): Promise<string> {
  // Bounded: a huge file (or /dev/zero, a FIFO) is refused without reading it all.
  return readAttestInput(path, MAX_KEY_BYTES, 'key');
}
