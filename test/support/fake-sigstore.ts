import { createHash, generateKeyPairSync, sign, type KeyPairKeyObjectResult } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fulcioHandler, initializeCA, initializeTSA } from '@sigstore/mock';
import { timestampRoute } from './fake-tsa.js';
import { canonicalizeEntry, startRekorLog } from './fake-rekor-log.js';

/**
 * Fulcio, Rekor and a timestamp authority from @sigstore/mock, served over real loopback HTTP so
 * that the CLI (another process) talks to them exactly as it would to Sigstore's services.
 */
export interface FakeSigstore {
  url: string;
  /** trusted_root.json content naming this fake's CA, CT log, transparency log and TSA. */
  trustedRoot: Record<string, unknown>;
  /** An OIDC identity token (unsigned JWT: the mock Fulcio does not check signatures). */
  token(claims?: Record<string, unknown>): string;
  /** signing_config.json (v0.2) pointing cosign v3 and sigstore-python at this fake's Fulcio, Rekor v1 and TSA. */
  signingConfig: Record<string, unknown>;
  /**
   * Writes DIR/trusted_root.json, DIR/signing_config.json and DIR/trust_config.json (a ClientTrustConfig
   * holding both, for sigstore-python's `--trust-config`); returns their paths.
   */
  writeTrustFiles(dir: string): Promise<{ trustedRoot: string; signingConfig: string; trustConfig: string }>;
  requests: string[];
  close(): Promise<void>;
}

export const FAKE_ISSUER = 'https://token.actions.githubusercontent.com';
export const FAKE_IDENTITY = 'https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0';

export async function startFakeSigstore(opts: { caClock?: Date } = {}): Promise<FakeSigstore> {
  const kp = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The mock TSA writes GeneralizedTime with fractional seconds when the clock has milliseconds,
  // which RFC 3161 parsers (and @sigstore/core) refuse: give it a whole-second clock, and start
  // certificates a minute earlier so their validity covers that timestamp. The TSA's own certificates
  // start at the real (sub-second) now, so its clock sits two whole seconds ahead of it.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 2000);
  const caClock = opts.caClock ?? new Date(now.getTime() - 60_000);
  const ctLog = correctCTLog(kp(), caClock);
  const ca = await initializeCA(kp(), ctLog, caClock);
  const tsa = await initializeTSA(kp(), now);
  const requests: string[] = [];
  type Reply = { statusCode: number; response: string | Buffer; contentType?: string; headers?: Record<string, string> };
  const routes = new Map<string, (body: Buffer, headers: http.IncomingHttpHeaders) => Promise<Reply>>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      requests.push(`${req.method} ${req.url}`);
      const fn = req.method === 'POST' ? routes.get((req.url ?? '').split('?')[0] ?? '') : undefined;
      if (!fn) {
        res.writeHead(404).end('not found');
        return;
      }
      const r = await fn(Buffer.concat(chunks), req.headers);
      res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain', ...r.headers }).end(r.response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tlog = startRekorLog(url, kp());
  const fulcio = fulcioHandler(ca);
  // Fulcio answers 200 (sigstore-go, in cosign v3, refuses anything else); the mock says 201.
  routes.set(fulcio.path, async (body, headers) => {
    const r = await fulcio.fn(normalizeFulcioRequest(body.toString('utf8'), headers));
    return r.statusCode === 201 ? { ...r, statusCode: 200 } : r;
  });
  routes.set('/api/v1/timestamp', timestampRoute(tsa));
  // The mock log stores proposed entries verbatim; real Rekor canonicalizes them first, and that body
  // is what verifiers compare against: do what Rekor does (see canonicalizeEntry).
  routes.set('/api/v1/log/entries', async (body) => {
    const entry = canonicalizeEntry(JSON.parse(body.toString('utf8')));
    const logged = tlog.log(entry);
    // Rekor names the new entry in ETag and Location; sigstore-go looks the entry up by the ETag.
    const uuid = Object.keys(logged)[0] ?? '';
    return { statusCode: 201, response: JSON.stringify(logged), contentType: 'application/json', headers: { etag: uuid, location: `/api/v1/log/entries/${uuid}` } };
  });

  const b64 = (b: Buffer) => b.toString('base64');
  const start = '2020-01-01T00:00:00Z';
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(createHash('sha256').update(tlog.publicKey).digest()) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctLog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(ctLog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor: { start },
      },
    ],
  };
  const token = (claims: Record<string, unknown> = {}) => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: FAKE_ISSUER, sub: FAKE_IDENTITY, aud: 'sigstore', iat: now, exp: now + 600, ...claims })}.c2ln`;
  };
  const service = (u: string) => ({ url: u, majorApiVersion: 1, validFor: { start }, operator: 'fake.duallane.invalid' });
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(url)],
    oidcUrls: [],
    rekorTlogUrls: [service(url)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [service(`${url}/api/v1/timestamp`)],
    tsaConfig: { selector: 'ANY' },
  };
  const writeTrustFiles = async (dir: string) => {
    const paths = { trustedRoot: join(dir, 'trusted_root.json'), signingConfig: join(dir, 'signing_config.json'), trustConfig: join(dir, 'trust_config.json') };
    await writeFile(paths.trustedRoot, JSON.stringify(trustedRoot, null, 2));
    await writeFile(paths.signingConfig, JSON.stringify(signingConfig, null, 2));
    const clientTrustConfig = { mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json', trustedRoot, signingConfig };
    await writeFile(paths.trustConfig, JSON.stringify(clientTrustConfig, null, 2));
    return paths;
  };
  return {
    url,
    trustedRoot,
    signingConfig,
    writeTrustFiles,
    token,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Fulcio v2 takes the OIDC token in the body or, as sigstore-go (cosign v3) and sigstore-python send
 * it, as an `Authorization: Bearer` header; a CSR is sent as base64 of its PEM. The mock reads only a
 * body token and a bare PEM CSR, so bring both other forms to that one.
 */
function normalizeFulcioRequest(body: string, headers: http.IncomingHttpHeaders): string {
  const req = JSON.parse(body) as { credentials?: { oidcIdentityToken?: string }; certificateSigningRequest?: string };
  const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
  if (!req.credentials?.oidcIdentityToken && bearer) req.credentials = { oidcIdentityToken: bearer };
  const csr = req.certificateSigningRequest;
  if (csr && !csr.includes('-----BEGIN')) req.certificateSigningRequest = Buffer.from(csr, 'base64').toString('utf8');
  return JSON.stringify(req);
}

/**
 * A CT log whose SCTs follow RFC 6962. @sigstore/mock's own CT log emits SCTs with an empty signature
 * under pkijs 3.4.3, and its CA wraps the SCT in a list without the per-SCT length prefix; returning
 * the SCT already length-prefixed makes the CA's list well formed, so real SCT verification runs.
 */
function correctCTLog(keyPair: KeyPairKeyObjectResult, clock?: Date) {
  const publicKey = keyPair.publicKey.export({ format: 'der', type: 'spki' });
  const logID = createHash('sha256').update(publicKey).digest();
  return {
    publicKey,
    logID,
    async log(certificate: ArrayBuffer, issuerID: ArrayBuffer): Promise<ArrayBuffer> {
      const tbs = X509Certificate.parse(Buffer.from(certificate)).tbsCertificate.toDER();
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(BigInt((clock ?? new Date()).getTime()));
      const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
      const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
      const signed = Buffer.concat([Buffer.from([0, 0]), ts, u16(1), Buffer.from(issuerID), u24(tbs.length), tbs, u16(0)]);
      const sig = sign('sha256', signed, keyPair.privateKey);
      const sct = Buffer.concat([Buffer.from([0]), logID, ts, u16(0), Buffer.from([4, 3]), u16(sig.length), sig]);
      const out = Buffer.concat([u16(sct.length), sct]);
      return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    },
  };
}
