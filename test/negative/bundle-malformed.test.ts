import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { malformedVariants, signedPair } from '../support/malformed-bundles.js';

/**
 * Bundles that are malformed per the Sigstore bundle spec must be refused as input (BUNDLE_MALFORMED,
 * exit 2) before any signature is believed: a bundle holding both a message signature and a DSSE
 * envelope (the spec's content is a oneof), and bytes fields that are not base64 (a lenient decoder
 * skips the junk and the signature still verifies over what is left).
 */
describe('negative suite: malformed bundles', () => {
  let dir: string;
  let pair: Awaited<ReturnType<typeof signedPair>>;
  let n = 0;

  async function verify(bundle: unknown): Promise<[number, string]> {
    const p = join(dir, `bundle-${n++}.json`);
    await writeFile(p, JSON.stringify(bundle));
    const r = await runCli(['verify', pair.artifactPath, '--bundle', p, '--key', pair.pubPath, '--json']);
    const out = parseJson<{ ok: boolean; error?: { code: string } }>(r);
    return [r.code, out.ok ? 'OK' : (out.error?.code ?? '?')];
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dl-malformed-'));
    pair = await signedPair(dir);
  });

  it('the untouched bundles verify (so each refusal below is about the change)', async () => {
    expect(await verify(pair.message)).toEqual([0, 'OK']);
    expect(await verify(pair.dsse)).toEqual([0, 'OK']);
  });

  for (const name of Object.keys(malformedVariants)) {
    it(`${name} -> BUNDLE_MALFORMED (exit 2)`, async () => {
      const variant = malformedVariants[name as keyof typeof malformedVariants];
      expect(await verify(variant(pair))).toEqual([2, 'BUNDLE_MALFORMED']);
    });
  }
});
