import type { LabelSpec } from './labels-file.js';
import { LabelsError } from './labels-error.js';
import type { GitHubLabelsClient } from './github-labels-client.js';
import { planLabelSync, type SyncAction } from './sync-plan.js';

export interface RepoRef {
  owner: string;
  repo: string;
}

/** Parses OWNER/NAME as GitHub spells it; throws REPO_INVALID otherwise. */
export function parseRepo(value: string): RepoRef {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(value);
  if (!m || m[2] === '.' || m[2] === '..') throw new LabelsError('REPO_INVALID', `--repo must be OWNER/NAME, got ${JSON.stringify(value)}`);
  return { owner: m[1]!, repo: m[2]! };
}

export interface SyncOptions {
  prune: boolean;
  dryRun: boolean;
  /** Called with the plan before any change is made (the CLI prints the diff here). */
  onPlan?: (actions: SyncAction[]) => void;
}

export interface SyncResult {
  actions: SyncAction[];
  applied: SyncAction[];
}

/**
 * Lists the repository's labels, plans, reports the plan, then (unless dry-run) applies it:
 * updates and renames first (so a rename frees or takes a name before creates run), then creates,
 * then deletes. Stops at the first failure; re-running continues from wherever it stopped because
 * the plan is recomputed from the repository each time.
 */
export async function syncLabels(client: GitHubLabelsClient, ref: RepoRef, labels: LabelSpec[], opts: SyncOptions): Promise<SyncResult> {
  const current = await client.list(ref.owner, ref.repo);
  const actions = planLabelSync(labels, current, { prune: opts.prune });
  opts.onPlan?.(actions);
  const applied: SyncAction[] = [];
  if (opts.dryRun) return { actions, applied };
  const order = { update: 0, create: 1, delete: 2 } as const;
  const changes = actions.filter((a) => a.kind === 'update' || a.kind === 'create' || a.kind === 'delete');
  changes.sort((a, b) => order[a.kind as keyof typeof order] - order[b.kind as keyof typeof order]);
  for (const a of changes) {
    switch (a.kind) {
      case 'update':
        await client.update(ref.owner, ref.repo, a.current.name, { newName: a.label.name, color: a.label.color, description: a.label.description });
        break;
      case 'create':
        await client.create(ref.owner, ref.repo, { name: a.label.name, color: a.label.color, description: a.label.description });
        break;
      case 'delete':
        await client.delete(ref.owner, ref.repo, a.current.name);
        break;
      default:
        break;
    }
    applied.push(a);
  }
  return { actions, applied };
}
