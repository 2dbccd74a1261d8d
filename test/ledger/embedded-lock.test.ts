import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.js';

describe('embedded ledger: one process at a time', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duallane-lock-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('refuses while another live process holds it, takes over a dead one, shares within a process', async () => {
    const path = join(dir, 'ledger');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await writeFile(`${path}.lock`, String(other.pid));
      await expect(Ledger.open({ kind: 'embedded', path }, { lockTimeoutMs: 300 })).rejects.toMatchObject({ code: 'LEDGER_LOCKED' });
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
    // the holder is gone: its lock is stale and is taken over
    const a = await Ledger.open({ kind: 'embedded', path }, { lockTimeoutMs: 300 });
    expect(existsSync(`${path}.lock`)).toBe(true);
    await a.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
