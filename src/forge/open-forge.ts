import { ForgeError } from './forge-error.js';
import type { Forge, ForgeTarget, PullRequestStore } from './forge.js';
import { GitHubForge } from './github-forge.js';
import { LocalForge } from './local-forge.js';

/** Builds the forge a target names. The local forge needs a store for its pull-request records. */
export function openForge(target: ForgeTarget, deps: { store?: PullRequestStore } = {}): Forge {
  switch (target.kind) {
    case 'local':
      if (!deps.store) throw new ForgeError('BAD_USAGE', 'the local forge needs a pull-request store');
      return new LocalForge(target.remote, deps.store);
    case 'github':
      return new GitHubForge(target);
  }
}
