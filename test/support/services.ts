import { execFileSync } from 'node:child_process';
import net from 'node:net';

/**
 * Gate for tests that need a real service or a Debian tool. Absent -> the suite skips with one line
 * saying why; under DUALLANE_REQUIRE_SERVICES=1 (set by .ci/run) absence is a failure instead.
 */
export function gate(name: string, available: boolean, reason: string): boolean {
  if (available) return true;
  if (process.env.DUALLANE_REQUIRE_SERVICES === '1') {
    throw new Error(`required service missing: ${name}: ${reason} (DUALLANE_REQUIRE_SERVICES=1)`);
  }
  console.warn(`skip: ${name}: ${reason}`);
  return false;
}

export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** `gate` for a Debian tool on PATH. */
export function gateCommand(cmd: string, pkg: string): boolean {
  return gate(cmd, haveCommand(cmd), `\`${cmd}\` not on PATH (Debian package ${pkg})`);
}

/** `gate` for PostgreSQL at 127.0.0.1:5432 (or PGHOST/PGPORT). */
export async function gatePostgres(): Promise<boolean> {
  const port = Number(process.env.PGPORT ?? 5432);
  const host = process.env.PGHOST ?? '127.0.0.1';
  return gate('postgresql', await canConnect(port, host), `nothing listening on ${host}:${port}`);
}
