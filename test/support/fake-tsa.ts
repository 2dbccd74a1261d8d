import { ASN1Obj } from '@sigstore/core';
import type { initializeTSA } from '@sigstore/mock';

type TSA = Awaited<ReturnType<typeof initializeTSA>>;
type Reply = { statusCode: number; response: Buffer | string; contentType?: string };

const OID_TSA_POLICY = '1.3.6.1.4.1.57264.2';
const HASH_OIDS: Record<string, string> = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };

/**
 * The timestamp authority's POST /api/v1/timestamp for every client: sigstore-js sends JSON
 * ({artifactHash, hashAlgorithm, certificates}), sigstore-go (cosign v3) and sigstore-python send an
 * RFC 3161 TimeStampReq in DER. The mock reads only JSON and answers 201; a real TSA answers 200
 * (sigstore-go refuses anything else) and echoes the request's nonce, which clients check.
 */
export function timestampRoute(tsa: TSA): (body: Buffer) => Promise<Reply> {
  return async (body) => {
    try {
      const req = body[0] === 0x30 ? parseDerRequest(body) : parseJsonRequest(body);
      const response = await timestampWithNonce(tsa, req);
      return { statusCode: 200, response, contentType: 'application/timestamp-reply' };
    } catch (e) {
      return { statusCode: 400, response: (e as Error).message };
    }
  };
}

interface TimestampRequest {
  artifactHash: Buffer;
  hashAlgorithmOID: string;
  nonce: bigint;
  policyOID: string;
  certReq: boolean;
}

function parseJsonRequest(body: Buffer): TimestampRequest {
  const json = JSON.parse(body.toString('utf8')) as { artifactHash: string; hashAlgorithm: string; nonce?: number; certificates?: boolean };
  const oid = HASH_OIDS[json.hashAlgorithm.toLowerCase().replace('-', '')] ?? HASH_OIDS.sha256 as string;
  return { artifactHash: Buffer.from(json.artifactHash, 'base64'), hashAlgorithmOID: oid, nonce: BigInt(json.nonce ?? 1234567890), policyOID: OID_TSA_POLICY, certReq: json.certificates ?? false };
}

/** TimeStampReq ::= SEQUENCE { version, messageImprint, reqPolicy OID OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE, [0] extensions OPTIONAL } */
function parseDerRequest(body: Buffer): TimestampRequest {
  const req = ASN1Obj.parseBuffer(Buffer.from(body));
  const [, imprint, ...rest] = req.subs;
  const alg = imprint?.subs[0]?.subs[0];
  const hash = imprint?.subs[1];
  if (!alg || !hash) throw new Error('TimeStampReq without a messageImprint');
  const out: TimestampRequest = { artifactHash: Buffer.from(hash.value), hashAlgorithmOID: alg.toOID(), nonce: 0n, policyOID: OID_TSA_POLICY, certReq: false };
  for (const o of rest) {
    if (o.tag.isOID()) out.policyOID = o.toOID();
    else if (o.tag.isInteger()) out.nonce = o.toInteger();
    else if (o.tag.isBoolean()) out.certReq = o.toBoolean();
  }
  return out;
}

/**
 * The mock writes the nonce from a JS number; clients send 64-bit and larger nonces. Its TSTInfo
 * builder is wrapped (once per TSA) to write the request's nonce bytes instead.
 */
const wrapped = new WeakSet<object>();
async function timestampWithNonce(tsa: TSA, req: TimestampRequest): Promise<Buffer> {
  const inner = tsa as unknown as { tstInfo(r: { nonceBytes?: ArrayBuffer }): { nonce?: unknown } };
  if (!wrapped.has(tsa)) {
    const original = inner.tstInfo.bind(tsa);
    inner.tstInfo = (r) => {
      const info = original({ ...r, nonce: 1 } as typeof r);
      const Integer = (info.nonce as { constructor: new (p: { valueHex: ArrayBuffer }) => unknown }).constructor;
      info.nonce = new Integer({ valueHex: r.nonceBytes ?? integerBytes(1n) });
      return info;
    };
    wrapped.add(tsa);
  }
  const mockReq = { artifactHash: req.artifactHash, hashAlgorithmOID: req.hashAlgorithmOID, nonce: 1, policyOID: req.policyOID, certReq: req.certReq, nonceBytes: integerBytes(req.nonce) };
  return Buffer.from(await tsa.timestamp(mockReq));
}

/** Two's-complement big-endian bytes of a non-negative integer (DER INTEGER content). */
function integerBytes(n: bigint): ArrayBuffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let buf = Buffer.from(hex, 'hex');
  if ((buf[0] ?? 0) & 0x80) buf = Buffer.concat([Buffer.from([0]), buf]);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
