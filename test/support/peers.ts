import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gate } from './services.js';

/**
 * The field's own tools (cosign, sigstore-python, Kyverno's CLI, flux, oras, crane), installed at
 * pinned versions into .peers/bin by scripts/install-peers.sh. A test that needs one asks
 * `gatePeer('cosign')`: absent -> the suite skips with one line naming the tool, why it is missing
 * (the install script's own status line when it failed) and how to install it; under
 * DUALLANE_REQUIRE_SERVICES=1 absence fails the run instead.
 */
export type PeerTool = 'cosign' | 'sigstore' | 'kyverno' | 'flux' | 'oras' | 'crane';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PEERS_DIR = process.env.DUALLANE_PEERS_DIR ?? join(ROOT, '.peers');

/** Absolute path of the peer tool's binary in .peers/bin (whether or not it exists). */
export function peerPath(tool: PeerTool): string {
  return join(PEERS_DIR, 'bin', tool);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function statusLine(tool: PeerTool): string | undefined {
  try {
    return readFileSync(join(PEERS_DIR, 'status', tool), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function gatePeer(tool: PeerTool): boolean {
  if (executable(peerPath(tool))) return true;
  const status = statusLine(tool);
  const why = status?.includes('FAILED') ? status : `${peerPath(tool)} is not installed`;
  return gate(tool, false, `${why} (run scripts/install-peers.sh ${tool})`);
}

export interface PeerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a peer tool with a bounded time; never throws on a non-zero exit (the code is the result). */
export function runPeer(
  tool: PeerTool,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      peerPath(tool),
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== 'number') {
          reject(new Error(`${tool} ${args.join(' ')}: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}
