import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { LaneError } from './lane-error.js';

export interface ScrubbedRun {
  command: string[];
  /** The command's exit status; 128 + signal number when a signal ended it (as a shell reports). */
  exitCode: number;
  signal: string | null;
  startedAt: Date;
  endedAt: Date;
}

/**
 * Runs `command` with exactly `env` (no inheritance), stdio passed through. SIGTERM and SIGHUP sent
 * to this process are forwarded to the child; SIGINT (Ctrl-C) already reaches the child through the
 * terminal's process group, so it is only kept from ending this process. Either way the run is
 * recorded after the child stops.
 */
export function runScrubbed(command: readonly string[], env: Record<string, string>, opts: { cwd?: string } = {}): Promise<ScrubbedRun> {
  const [file, ...args] = command;
  if (!file) return Promise.reject(new LaneError('BAD_USAGE', 'no command given (usage: duallane exec --lane L -- CMD ...)'));
  const startedAt = new Date();
  return new Promise((resolve, reject) => {
    // Handlers go in BEFORE the spawn: a signal arriving while the child starts is delivered to it
    // once it exists, instead of killing this process and losing the record of the run.
    const started: { child?: ChildProcess; pending?: NodeJS.Signals } = {};
    const forward = (sig: NodeJS.Signals) => () => {
      if (sig === 'SIGINT') return;
      if (started.child) started.child.kill(sig);
      else started.pending = sig;
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const done = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    const child = spawn(file, args, { env, cwd: opts.cwd, stdio: 'inherit' });
    started.child = child;
    if (started.pending) child.kill(started.pending);
    child.once('error', (cause: NodeJS.ErrnoException) => {
      done();
      if (cause.code === 'ENOENT') reject(new LaneError('COMMAND_NOT_FOUND', `command not found: ${file} (PATH comes from the lane's allowlist)`, { cause }));
      else reject(new LaneError('BAD_USAGE', `cannot run ${file}: ${cause.code ?? cause.message}`, { cause }));
    });
    child.once('close', (code, signal) => {
      done();
      const signo = signal ? (constants.signals as Record<string, number>)[signal] ?? 0 : 0;
      resolve({ command: [...command], exitCode: code ?? 128 + signo, signal, startedAt, endedAt: new Date() });
    });
  });
}
