import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attestStatement, generateKeyPair, makeStatement, sha256Hex, signBlob, verifyBundle, type AttestErrorCode } from './index.js';

async function codeOf(p: Promise<unknown>): Promise<AttestErrorCode | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code: AttestErrorCode }).code;
  }
}

describe('key-based sign and verify', () => {
  let dir: string;
  let keyPath: string;
  let pubPem: string;
  let otherPub: string;
  const artifact = Buffer.from('hello duallane\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-attest-'));
    const k = await generateKeyPair({ lane: 'codex', outDir: dir });
    keyPath = k.keyPath;
    pubPem = await readFile(k.pubPath, 'utf8');
    otherPub = await readFile((await generateKeyPair({ lane: 'other', outDir: dir })).pubPath, 'utf8');
  });

  it('writes a 0600 PKCS#8 key and refuses to overwrite it', async () => {
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await codeOf(generateKeyPair({ lane: 'codex', outDir: dir }))).toBe('KEY_EXISTS');
  });

  it('encrypts the key when a passphrase is given, and needs it to sign', async () => {
    const k = await generateKeyPair({ lane: 'secret', outDir: dir, passphrase: 'correct horse' });
    expect(await readFile(k.keyPath, 'utf8')).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(await codeOf(signBlob(artifact, { kind: 'key', keyPath: k.keyPath }))).toBe('KEY_INVALID');
    expect(await codeOf(signBlob(artifact, { kind: 'key', keyPath: k.keyPath, passphrase: 'wrong' }))).toBe('KEY_INVALID');
    const b = await signBlob(artifact, { kind: 'key', keyPath: k.keyPath, passphrase: 'correct horse' });
    const pem = await readFile(k.pubPath, 'utf8');
    expect((await verifyBundle(b, { artifact, trust: { kind: 'key', publicKeyPem: pem } })).kind).toBe('message');
  });

  it('message signature: v0.3 bundle verifies by bytes and by digest; other artifact and other key are refused', async () => {
    const b = await signBlob(artifact, { kind: 'key', keyPath });
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const trust = { kind: 'key' as const, publicKeyPem: pubPem };
    expect((await verifyBundle(b, { artifact, trust })).kind).toBe('message');
    expect((await verifyBundle(b, { digest: `sha256:${sha256Hex(artifact)}`, trust })).kind).toBe('message');
    expect(await codeOf(verifyBundle(b, { artifact: Buffer.from('other'), trust }))).toBe('SUBJECT_MISMATCH');
    expect(await codeOf(verifyBundle(b, { artifact, trust: { kind: 'key', publicKeyPem: otherPub } }))).toBe('SIGNATURE_INVALID');
    expect(await codeOf(verifyBundle(b, { digest: `sha256:${sha256Hex(artifact)}`, trust: { kind: 'key', publicKeyPem: otherPub } }))).toBe('SIGNATURE_INVALID');
  });

  it('DSSE: the artifact must be a subject; predicate type is checked', async () => {
    const st = makeStatement([{ name: 'a.txt', digest: { sha256: sha256Hex(artifact) } }], 'https://example.com/p/v1', { x: 1 });
    const b = await attestStatement(st, { kind: 'key', keyPath });
    const trust = { kind: 'key' as const, publicKeyPem: pubPem };
    const r = await verifyBundle(b, { artifact, trust, predicateType: 'https://example.com/p/v1' });
    expect(r.statement?.predicate).toEqual({ x: 1 });
    expect(await codeOf(verifyBundle(b, { artifact: Buffer.from('B'), trust }))).toBe('SUBJECT_MISMATCH');
    expect(await codeOf(verifyBundle(b, { artifact, trust, predicateType: 'https://slsa.dev/provenance/v1' }))).toBe('PREDICATE_TYPE_MISMATCH');
  });
});

describe('verification is observable', () => {
  it('counts successes and failures by reason code in the metric catalog', async () => {
    const { getMetrics } = await import('../observability/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'dl-metrics-'));
    const k = await generateKeyPair({ lane: 'codex', outDir: dir });
    const trust = { kind: 'key' as const, publicKeyPem: await readFile(k.pubPath, 'utf8') };
    const b = await signBlob(Buffer.from('m'), { kind: 'key', keyPath: k.keyPath }, { lane: 'codex' });
    const line = async (re: RegExp) => Number(re.exec(await getMetrics().registry.metrics())?.[1] ?? NaN);
    const okBefore = await line(/duallane_verifications_total\{result="success",reason="none"\} (\d+)/);
    const badBefore = await line(/duallane_verifications_total\{result="failure",reason="subject_mismatch"\} (\d+)/);
    await verifyBundle(b, { artifact: Buffer.from('m'), trust });
    await verifyBundle(b, { artifact: Buffer.from('x'), trust }).catch(() => undefined);
    expect(await line(/duallane_verifications_total\{result="success",reason="none"\} (\d+)/)).toBe(okBefore + 1);
    expect(await line(/duallane_verifications_total\{result="failure",reason="subject_mismatch"\} (\d+)/)).toBe(badBefore + 1);
    expect(await line(/duallane_signatures_created_total\{lane="codex",kind="key"\} (\d+)/)).toBeGreaterThanOrEqual(1);
  });
});
