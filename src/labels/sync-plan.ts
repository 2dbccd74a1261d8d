import type { LabelSpec } from './labels-file.js';

/** A label as the repository has it now (the fields of GitHub's label object we use). */
export interface RepoLabel {
  name: string;
  color: string;
  description: string | null;
}

export type SyncAction =
  | { kind: 'create'; label: LabelSpec }
  | { kind: 'update'; current: RepoLabel; label: LabelSpec; changes: ('name' | 'color' | 'description')[] }
  | { kind: 'delete'; current: RepoLabel }
  | { kind: 'keep'; current: RepoLabel; label: LabelSpec }
  /** A repository label not in the file; deleted only with --prune. */
  | { kind: 'extra'; current: RepoLabel };

/**
 * What to do to make the repository's labels match the file. A file label matches a repository label
 * by name ignoring case, else by one of its aliases (a rename, which keeps the label on issues and
 * pull requests). Repository labels no file label claims are deleted only when `prune` is set.
 */
export function planLabelSync(desired: LabelSpec[], current: RepoLabel[], opts: { prune: boolean }): SyncAction[] {
  const byName = new Map(current.map((c) => [c.name.toLowerCase(), c]));
  const claimed = new Set<string>();
  const actions: SyncAction[] = [];
  for (const label of desired) {
    let match = byName.get(label.name.toLowerCase());
    if (!match || claimed.has(match.name.toLowerCase())) {
      match = label.aliases.map((a) => byName.get(a.toLowerCase())).find((c) => c && !claimed.has(c.name.toLowerCase()));
    }
    if (!match) {
      actions.push({ kind: 'create', label });
      continue;
    }
    claimed.add(match.name.toLowerCase());
    const changes: ('name' | 'color' | 'description')[] = [];
    if (match.name !== label.name) changes.push('name');
    if (match.color.toLowerCase() !== label.color) changes.push('color');
    if ((match.description ?? '') !== label.description) changes.push('description');
    actions.push(changes.length > 0 ? { kind: 'update', current: match, label, changes } : { kind: 'keep', current: match, label });
  }
  for (const c of current) {
    if (!claimed.has(c.name.toLowerCase())) actions.push(opts.prune ? { kind: 'delete', current: c } : { kind: 'extra', current: c });
  }
  return actions;
}

/** One line per change, for the diff printed before anything is applied. */
export function describeAction(a: SyncAction): string {
  switch (a.kind) {
    case 'create':
      return `+ ${a.label.name}  #${a.label.color}  ${JSON.stringify(a.label.description)}`;
    case 'update': {
      const parts: string[] = [];
      if (a.changes.includes('name')) parts.push(`rename ${JSON.stringify(a.current.name)} -> ${JSON.stringify(a.label.name)}`);
      if (a.changes.includes('color')) parts.push(`color #${a.current.color} -> #${a.label.color}`);
      if (a.changes.includes('description')) parts.push(`description ${JSON.stringify(a.current.description ?? '')} -> ${JSON.stringify(a.label.description)}`);
      return `~ ${a.label.name}  ${parts.join('; ')}`;
    }
    case 'delete':
      return `- ${a.current.name}`;
    case 'extra':
      return `? ${a.current.name}  (not in the file; kept, --prune deletes it)`;
    case 'keep':
      return `= ${a.label.name}`;
  }
}
