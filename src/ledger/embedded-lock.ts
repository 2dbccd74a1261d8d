import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { LedgerError } from './ledger-error.js';

/**
 * PGlite has no inter-process locking: two processes opening one data directory would corrupt it.
 * This lock file (`<dir>.lock`, holding the owner's pid) allows one process at a time. Opens within
 * the same process share the lock (reference-counted). A lock whose process is gone is taken over.
 */
const held = new Map<string, number>();
let exitHookInstalled = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(lockPath: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export async function acquireEmbeddedLock(dataDir: string, timeoutMs = 15_000): Promise<() => void> {
  const lockPath = `${dataDir.replace(/\/+$/, '')}.lock`;
  const count = held.get(lockPath) ?? 0;
  if (count === 0) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (tryCreate(lockPath)) break;
      let owner = NaN;
      try {
        owner = Number(readFileSync(lockPath, 'utf8').trim());
      } catch {
        continue; // removed between our attempts: try again
      }
      if (owner === process.pid || !Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
        try {
          unlinkSync(lockPath);
        } catch {
          /* another process took it over first */
        }
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LedgerError('LEDGER_LOCKED', `the embedded ledger ${dataDir} is in use by process ${owner}; embedded mode allows one process at a time (use server mode for concurrent lanes)`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const p of held.keys()) {
          try {
            unlinkSync(p);
          } catch {
            /* already gone */
          }
        }
      });
    }
  }
  held.set(lockPath, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (held.get(lockPath) ?? 1) - 1;
    if (n > 0) {
      held.set(lockPath, n);
      return;
    }
    held.delete(lockPath);
    try {
      unlinkSync(lockPath);
    } catch {
      /* already gone */
    }
  };
}
