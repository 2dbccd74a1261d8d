import type { Command } from 'commander';
import { generateKeyPair } from '../attest/index.js';
import { ensureDirectory } from './cli-files.js';
import { makePrinter } from './output.js';
import { secretFromEnv } from './secrets.js';

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage lane signing keys (ECDSA P-256)');
  keys
    .command('generate')
    .description('write DIR/LANE.key (PKCS#8 PEM, 0600) and DIR/LANE.pub (SPKI PEM); never overwrites')
    .requiredOption('--lane <name>', 'lane name, e.g. codex or claude')
    .option('--out <dir>', 'output directory', '.duallane/keys')
    .option('--passphrase-env <var>', 'encrypt the private key with the passphrase in this environment variable')
    .option('--json', 'machine-readable output')
    .action(async (opts: { lane: string; out: string; passphraseEnv?: string; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const passphrase = secretFromEnv(opts.passphraseEnv, '--passphrase-env');
      const r = await generateKeyPair({ lane: opts.lane, outDir: await ensureDirectory(opts.out, '--out', 0o700), passphrase });
      out.result({ lane: opts.lane, ...r, encrypted: Boolean(passphrase) }, () => [
        `private key: ${r.keyPath}${passphrase ? ' (encrypted)' : ''}`,
        `public key:  ${r.pubPath}`,
        `key id:      ${r.keyId}`,
      ]);
    });
}
