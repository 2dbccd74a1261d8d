import fc from 'fast-check';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttestError, attestStatement, generateKeyPair, makeStatement, parseBundleText, sha256Hex, signBlob, verifyBundle, type Trust } from './index.js';

/**
 * The bundle parser and verifier on hostile input: random text, random JSON and mutations of valid
 * bundles never crash (only AttestError with a code), stay bounded, and a mutation of a valid bundle
 * never verifies unless it left every signed byte as it was.
 */
const artifact = Buffer.from('property artifact\n');
let trust: Trust;
let message: Record<string, unknown>;
let dsse: Record<string, unknown>;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dl-bundle-prop-'));
  const k = await generateKeyPair({ lane: 'prop', outDir: dir });
  trust = { kind: 'key', publicKeyPem: await readFile(k.pubPath, 'utf8') };
  message = (await signBlob(artifact, { kind: 'key', keyPath: k.keyPath })) as unknown as Record<string, unknown>;
  const st = makeStatement([{ name: 'a', digest: { sha256: sha256Hex(artifact) } }], 'https://slsa.dev/provenance/v1', { buildDefinition: {}, runDetails: {} });
  dsse = (await attestStatement(st, { kind: 'key', keyPath: k.keyPath })) as unknown as Record<string, unknown>;
});

async function outcome(json: unknown): Promise<string> {
  try {
    await verifyBundle(json, { artifact, trust });
    return 'OK';
  } catch (e) {
    if (!(e instanceof AttestError)) throw e;
    return e.code;
  }
}

/** Every string leaf of a JSON value, with a path to set it. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof v === 'string') return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [];
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, unknown>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

describe('bundle parsing and verification under random and mutated input', () => {
  it('random text: parseBundleText answers with a value or an AttestError code', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        try {
          parseBundleText(text);
        } catch (e) {
          expect(e).toBeInstanceOf(AttestError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random JSON never verifies and never throws anything but an AttestError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (json) => {
        expect(await outcome(json)).not.toBe('OK');
      }),
      { numRuns: 300 },
    );
  });

  it('a valid bundle with one string field replaced verifies only when the field was not signed', async () => {
    const cases = [message, dsse];
    const baseline = await Promise.all(cases.map(outcome));
    expect(baseline).toEqual(['OK', 'OK']);
    await fc.assert(
      fc.asyncProperty(fc.nat(1), fc.nat(), fc.string({ maxLength: 200 }), async (which, pick, value) => {
        const b = cases[which]!;
        const all = leaves(b);
        const path = all[pick % all.length]!;
        const mutated = setAt(b, path, value);
        const original = path.reduce<unknown>((o, p) => (o as Record<string | number, unknown>)[p], b);
        if (value === original) return;
        const r = await outcome(mutated);
        // Only the unsigned hints may change without effect: the media type's spelling is checked,
        // the key hint and DSSE keyid are hints, and everything else is signed or bound to the artifact.
        const hint = path.includes('hint') || path.includes('keyid');
        if (!hint) expect(r, `mutating ${path.join('.')} to ${JSON.stringify(value)}`).not.toBe('OK');
      }),
      { numRuns: 300 },
    );
  });

  it('a valid bundle with one byte of a signed base64 field flipped never verifies', async () => {
    const targets: [Record<string, unknown>, (string | number)[]][] = [
      [message, ['messageSignature', 'signature']],
      [message, ['messageSignature', 'messageDigest', 'digest']],
      [dsse, ['dsseEnvelope', 'payload']],
      [dsse, ['dsseEnvelope', 'signatures', 0, 'sig']],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(targets.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), async (t, at, xor) => {
        const [b, path] = targets[t]!;
        const raw = Buffer.from(path.reduce<unknown>((o, p) => (o as Record<string | number, unknown>)[p], b) as string, 'base64');
        const i = at % raw.length;
        raw[i] = raw[i]! ^ xor;
        expect(await outcome(setAt(b, path, raw.toString('base64')))).not.toBe('OK');
      }),
      { numRuns: 300 },
    );
  });
});
