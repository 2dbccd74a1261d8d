import { createHash, randomBytes, sign, type KeyPairKeyObjectResult } from 'node:crypto';

/**
 * A Rekor v1 log that is a real RFC 6962 Merkle tree. @sigstore/mock's log answers every entry with a
 * one-leaf tree (inclusion proof at index 0 with no hashes, whatever logIndex it reports): proto3 JSON
 * drops that zero index and the empty hash list, and sigstore-python then refuses the bundle as
 * malformed ("inclusionProof.logIndex: Field required"). Here every entry is appended to one tree,
 * proofs are audit paths from the leaf to a root the checkpoint signs, and the tree starts with one
 * filler leaf so that no entry sits alone in it.
 */
export interface RekorLog {
  publicKey: Buffer;
  logID: Buffer;
  log(proposedEntry: unknown): Record<string, unknown>;
}

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const leafHash = (body: Buffer) => sha256(Buffer.from([0]), body);
const nodeHash = (l: Buffer, r: Buffer) => sha256(Buffer.from([1]), l, r);

/** Largest power of two strictly below n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0] as Buffer;
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]), ordered from the leaf up. */
function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

/** RFC 8785-style canonical JSON for the plain objects Rekor entries are (strings, numbers, objects, arrays). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function startRekorLog(url: string, keyPair: KeyPairKeyObjectResult, clock: () => Date = () => new Date()): RekorLog {
  const host = new URL(url).host;
  const publicKey = keyPair.publicKey.export({ format: 'der', type: 'spki' });
  const logID = sha256(publicKey);
  const treeID = randomBytes(6).readUIntBE(0, 6);
  const leaves: Buffer[] = [leafHash(Buffer.from('duallane fake rekor: filler leaf'))];
  return {
    publicKey,
    logID,
    log(proposedEntry: unknown) {
      const body = Buffer.from(canonicalJson(proposedEntry));
      const logIndex = leaves.length;
      leaves.push(leafHash(body));
      const treeSize = leaves.length;
      const integratedTime = Math.floor(clock().getTime() / 1000);
      const rootHash = treeHash(leaves);
      const set = sign('sha256', Buffer.from(canonicalJson({ body: body.toString('base64'), integratedTime, logID: logID.toString('hex'), logIndex })), keyPair.privateKey);
      // Checkpoint: a signed note (origin, size, root, timestamp), a blank line, then the em-dash signature line with a 4-byte key hint.
      const note = `${host} - ${treeID}\n${treeSize}\n${rootHash.toString('base64')}\nTimestamp: ${integratedTime * 1_000_000_000}\n`;
      const noteSig = Buffer.concat([logID.subarray(0, 4), sign('sha256', Buffer.from(note), keyPair.privateKey)]);
      const checkpoint = `${note}\n\u2014 ${host} ${noteSig.toString('base64')}\n`;
      return {
        [randomBytes(32).toString('hex')]: {
          body: body.toString('base64'),
          integratedTime,
          logID: logID.toString('hex'),
          logIndex,
          verification: {
            inclusionProof: { logIndex, treeSize, rootHash: rootHash.toString('hex'), hashes: auditPath(logIndex, leaves).map((h) => h.toString('hex')), checkpoint },
            signedEntryTimestamp: set.toString('base64'),
          },
        },
      };
    },
  };
}

type Entry = { kind: string; apiVersion: string; spec: Record<string, unknown> };

/**
 * Rekor's canonicalization of a proposed entry. Keys and certificates are re-encoded as standard PEM
 * (64-column base64, as Go's pem.Encode writes): sigstore-js proposes a one-line PEM, and
 * sigstore-python rebuilds the expected hashedrekord body from the certificate and compares it with
 * the logged one, so a verbatim body fails there with "transparency log entry is inconsistent with
 * other materials". A dsse entry becomes envelope and payload hashes plus signatures with verifiers.
 */
export function canonicalizeEntry(entry: Entry): Entry {
  if (entry.kind === 'hashedrekord') {
    const spec = entry.spec as { data: unknown; signature: { content: string; publicKey: { content: string } } };
    return { ...entry, spec: { data: spec.data, signature: { content: spec.signature.content, publicKey: { content: canonicalPemB64(spec.signature.publicKey.content) } } } };
  }
  if (entry.kind === 'dsse') {
    const pc = entry.spec.proposedContent as { envelope: string; verifiers: string[] };
    const env = JSON.parse(pc.envelope) as { payload: string; signatures: { sig: string }[] };
    return {
      ...entry,
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(pc.envelope)).toString('hex') },
        payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')).toString('hex') },
        signatures: env.signatures.map((sg, i) => ({ signature: sg.sig, verifier: canonicalPemB64(pc.verifiers[i] ?? pc.verifiers[0] ?? '') })),
      },
    };
  }
  return entry;
}

/** base64(PEM) -> base64(PEM with 64-column lines). */
function canonicalPemB64(b64: string): string {
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  const m = /-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\s]+)-----END \1-----/.exec(pem);
  if (!m) return b64;
  const body = (m[2] ?? '').replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return Buffer.from(`-----BEGIN ${m[1]}-----\n${lines.join('\n')}\n-----END ${m[1]}-----\n`).toString('base64');
}
