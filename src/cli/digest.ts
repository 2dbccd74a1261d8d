import type { Command } from 'commander';
import { digestFile } from '../attest/index.js';
import { makePrinter, progressAllowed } from './output.js';
import { startProgress } from './progress.js';

export function registerDigestCommand(program: Command): void {
  program
    .command('digest')
    .description('print the sha256 digest of FILE as sha256:<hex> (streams; progress bar on a TTY)')
    .argument('<file>', 'file to hash')
    .option('--json', 'print {"file","digest","size"} as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const bar = progressAllowed(out.json) ? startProgress(`hashing ${file}`) : undefined;
      let size = 0;
      const digest = await digestFile(file, {
        onProgress: (done, total) => {
          size = total;
          bar?.update(done, total);
        },
      }).finally(() => bar?.stop());
      out.result({ file, digest, size }, () => digest);
    });
}
