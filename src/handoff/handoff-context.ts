import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfigPath, type DuallaneConfig } from '../config/index.js';
import { ForgeError, GitHubForge, LocalForge, git, type Forge } from '../forge/index.js';
import type { Ledger } from '../ledger/index.js';
import { LedgerPullRequestStore } from './ledger-pr-store.js';
import { ContentStore, DEFAULT_STORE_DIR } from './store.js';

/** The step boundaries of accept, in order. A test hook may stop the process at any of them. */
export const ACCEPT_STEPS = ['claimed', 'verified', 'committed', 'applied', 'pushed', 'pr-created', 'labeled', 'attested', 'pr_opened'] as const;
export type AcceptStep = (typeof ACCEPT_STEPS)[number];

/** Everything propose and accept work with. Built once by the caller (CLI or server). */
export interface HandoffContext {
  config: DuallaneConfig;
  ledger: Ledger;
  store: ContentStore;
  /** The git repository proposals apply to (default: the config root). */
  repoDir: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Called after each completed accept step (crash-safety tests kill the process here). */
  onStep?: (step: AcceptStep) => void;
  /**
   * trusted_root.json for keyless lanes (Fulcio CA, Rekor, CT logs, TSAs). Absent: Sigstore's
   * public-good root is fetched through TUF when a keyless lane's bundle is verified.
   */
  trustedRoot?: object;
}

export function makeContext(config: DuallaneConfig, ledger: Ledger, opts: Partial<Omit<HandoffContext, 'config' | 'ledger'>> = {}): HandoffContext {
  return {
    config,
    ledger,
    store: opts.store ?? new ContentStore(resolveConfigPath(config, DEFAULT_STORE_DIR)),
    repoDir: opts.repoDir ?? config.root,
    env: opts.env ?? process.env,
    now: opts.now ?? (() => new Date()),
    onStep: opts.onStep,
    trustedRoot: opts.trustedRoot,
  };
}

/**
 * The repository identity proposals name: the forge's remote, not a local directory, so that a
 * proposal made in one clone is accepted in another and refused anywhere else.
 */
export function repositoryIdentity(config: DuallaneConfig): string {
  const f = config.forge;
  switch (f.kind) {
    case 'local':
      return pathToFileURL(resolveConfigPath(config, f.remote)).href;
    case 'github':
      return `https://github.com/${f.repo}`;
  }
}

/** The forge the execute lane writes to, built from duallane.yaml and the lane's token variable. */
export async function forgeFor(ctx: HandoffContext, laneName: string): Promise<Forge> {
  const f = ctx.config.forge;
  switch (f.kind) {
    case 'local': {
      const remote = resolveConfigPath(ctx.config, f.remote);
      await ensureBareRemote(remote);
      return new LocalForge(remote, new LedgerPullRequestStore(ctx.ledger, laneName, remote));
    }
    case 'github': {
      const lane = ctx.config.lanes.find((l) => l.name === laneName);
      const tokenEnv = lane?.github.tokenEnv ?? 'GITHUB_TOKEN';
      const token = ctx.env[tokenEnv];
      if (!token) throw new ForgeError('FORGE_UNAUTHORIZED', `$${tokenEnv} is not set: the GitHub forge needs lane ${laneName}'s token`);
      const [owner, repo] = f.repo.split('/') as [string, string];
      return new GitHubForge({ owner, repo, token, baseUrl: ctx.env.GITHUB_API_URL || f.apiUrl, remote: f.remote });
    }
  }
}

/**
 * Creates the local forge's bare repository on first use. Concurrent first accepts (threads of one
 * server, or several processes) must not race `git init` on the same directory: each builds the
 * repository in a private sibling directory and renames it into place; the loser of the rename
 * discards its copy and uses the winner's.
 */
async function ensureBareRemote(path: string): Promise<void> {
  if (await isBareRepo(path)) return;
  await mkdir(dirname(path), { recursive: true });
  const tmp = await mkdtemp(`${path}.init-`);
  try {
    await git(['init', '--bare', '--quiet', tmp], { cwd: tmp });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (!(await isBareRepo(path))) throw e;
  }
}

async function isBareRepo(path: string): Promise<boolean> {
  try {
    await stat(join(path, 'HEAD'));
    return true;
  } catch {
    return false;
  }
}
