import cliProgress from 'cli-progress';

/** A progress bar on stderr, drawn only for work big enough to notice (> 64 MiB). */
export function startProgress(label: string): { update(done: number, total: number): void; stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(done, total) {
      if (total < 64 * 1024 * 1024) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% {value}/{total} MiB`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.ceil(total / 1048576), 0);
      }
      bar.update(Math.floor(done / 1048576));
    },
    stop() {
      bar?.stop();
    },
  };
}
