import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadTrustedRootFile } from '../attest/index.js';
import { escapeControl, InputError, readBoundedFile } from '../config/index.js';
import { openLedger, HANDOFF_STATES, type HandoffState } from '../ledger/index.js';
import {
  accept,
  ACCEPT_STEPS,
  forgeFor,
  listHandoffs,
  makeContext,
  propose,
  showHandoff,
  submit,
  traceHandoff,
  type AcceptStep,
  type HandoffContext,
} from '../handoff/index.js';
import { loadInitializedConfig } from './cli-config.js';
import { existingDirectory } from './cli-files.js';
import { makePrinter } from './output.js';
import { refuseUncommittedInitFiles, untrackedPaths } from './worktree-includes.js';

interface Common {
  dir: string;
  repo?: string;
  trustedRoot?: string;
  json?: boolean;
}

const MAX_INPUT = 16 * 1024 * 1024;

/** `24h`, `30m`, `90s`, `7d` -> milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d{1,7})(s|m|h|d)$/.exec(s.trim());
  if (!m) throw new InputError('BAD_USAGE', `--expires must look like 90s, 30m, 24h or 7d, not ${JSON.stringify(s)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const MAX_BUNDLE_INPUT = 4 * 1024 * 1024;

/** Patch, bundle and artifact files: regular files only, never more than the limit read. */
function readInput(path: string, what: string, maxBytes = MAX_INPUT): Promise<Buffer> {
  return readBoundedFile(path, { maxBytes, what });
}

/**
 * Crash-safety test hook: with DUALLANE_TEST_HOOKS=1, DUALLANE_CRASH_AT=<step> kills this process
 * with SIGKILL right after that accept step. Ignored otherwise, so production runs cannot be crashed
 * through the environment alone.
 */
function crashHook(): ((step: AcceptStep) => void) | undefined {
  const at = process.env.DUALLANE_CRASH_AT;
  if (process.env.DUALLANE_TEST_HOOKS !== '1' || !at) return undefined;
  if (!(ACCEPT_STEPS as readonly string[]).includes(at)) throw new InputError('BAD_USAGE', `DUALLANE_CRASH_AT must be one of ${ACCEPT_STEPS.join(', ')}`);
  return (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
}

async function withContext<T>(o: Common, lane: string | undefined, fn: (ctx: HandoffContext) => Promise<T>): Promise<T> {
  const config = await loadInitializedConfig(o.dir);
  const repoDir = o.repo ? await existingDirectory(resolve(o.repo), '--repo') : config.root;
  const trustedRoot = o.trustedRoot ? await loadTrustedRootFile(o.trustedRoot) : undefined;
  const ledger = await openLedger(config, { lane });
  try {
    return await fn(makeContext(config, ledger, { repoDir, onStep: crashHook(), trustedRoot }));
  } finally {
    await ledger.close();
  }
}

const common = (cmd: Command) =>
  cmd
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--repo <dir>', 'git repository the handoff applies to (default: the --dir)')
    .option('--trusted-root <file>', 'trusted_root.json for keyless lanes (default: Sigstore public-good via TUF)')
    .option('--json', 'print the result as JSON');

export function registerHandoffCommands(program: Command): void {
  const handoff = program.command('handoff').description('signed proposals from a propose lane, verified and applied by an execute lane');

  common(
    handoff
      .command('propose')
      .description('sign a deterministic patch of a change and record it as proposed (propose lane)')
      .requiredOption('--lane <lane>', 'the propose lane signing the proposal')
      .requiredOption('--title <title>', 'pull request title')
      .option('--summary <text>', 'longer description (pull request body)', '')
      .option('--base <ref>', 'base commit the change applies to', 'HEAD')
      .option('--from-worktree', 'the change is the working tree against --base (default): modified and deleted tracked files, and untracked files that are not git-ignored; commit or ignore what must not be proposed')
      .option('--patch <file>', 'the change is this patch file (git diff format), applied to --base')
      .option('--target <branch>', 'branch the pull request targets', 'main')
      .option('--expires <duration>', 'lifetime: 90s, 30m, 24h, 7d', '24h')
      .option('--issue <n>', 'also label this GitHub issue (github forge only)'),
  ).action(async (o: Common & { lane: string; title: string; summary: string; base: string; fromWorktree?: boolean; patch?: string; target: string; expires: string; issue?: string }) => {
    const out = makePrinter(Boolean(o.json));
    if (o.fromWorktree && o.patch) throw new InputError('BAD_USAGE', '--from-worktree and --patch are exclusive');
    const expiresInMs = parseDuration(o.expires);
    const issue = o.issue === undefined ? undefined : Number(o.issue);
    if (issue !== undefined && !(Number.isInteger(issue) && issue > 0)) throw new InputError('BAD_USAGE', '--issue must be a positive issue number');
    const source = o.patch ? { kind: 'patch' as const, bytes: await readInput(o.patch, 'patch') } : { kind: 'worktree' as const };
    let untracked = new Set<string>();
    const r = await withContext(o, o.lane, async (ctx) => {
      if (issue !== undefined && ctx.config.forge.kind !== 'github') throw new InputError('BAD_USAGE', '--issue needs forge.kind: github');
      if (source.kind === 'worktree') {
        untracked = await untrackedPaths(ctx.repoDir);
        await refuseUncommittedInitFiles(ctx.config, ctx.repoDir, untracked);
      }
      const res = await propose(ctx, { lane: o.lane, title: o.title, summary: o.summary, base: o.base, source, expiresInMs, targetBranch: o.target });
      let issueLabels: string[] | undefined;
      if (issue !== undefined) issueLabels = await (await forgeFor(ctx, o.lane)).addLabels(issue, [`lane:${o.lane}`, 'handoff:proposed']);
      return { ...res, ...(issueLabels ? { issue: { number: issue, labels: issueLabels } } : {}) };
    });
    out.result(r, () => [
      `proposed ${r.id} (lane ${r.lane})`,
      `  base      ${r.baseCommit}`,
      `  artifact  ${r.artifactDigest}  ${r.artifactPath}`,
      `  bundle    ${r.statementDigest}  ${r.bundlePath}`,
      // Each path and why it is in: tracked changes, or untracked files git does not ignore.
      ...r.changedPaths.map((p) => `  includes  ${p.path} (${p.status}, ${untracked.has(p.path) ? 'untracked: not git-ignored' : source.kind === 'patch' ? 'from --patch' : 'tracked'})`),
      `  expires   ${r.expiresAt}`,
      ...r.scopeWarnings.map((w) => `  warning   ${w.code}${w.path ? ` ${w.path}` : ''} (the execute lane will reject this)`),
    ]);
  });

  common(
    handoff
      .command('submit')
      .description('record a proposal signed elsewhere (bundle + artifact); verified first, replays refused')
      .requiredOption('--bundle <file>', 'Sigstore bundle of the handoff statement')
      .requiredOption('--artifact <file>', 'the patch artifact the statement names'),
  ).action(async (o: Common & { bundle: string; artifact: string }) => {
    const out = makePrinter(Boolean(o.json));
    const bundleText = (await readInput(o.bundle, 'bundle', MAX_BUNDLE_INPUT)).toString('utf8');
    const artifact = await readInput(o.artifact, 'artifact');
    const r = await withContext(o, undefined, (ctx) => submit(ctx, { bundleText, artifact }));
    out.result(r, () => [`proposed ${r.id} (lane ${r.lane}) from ${o.bundle}`]);
  });

  common(
    handoff
      .command('accept')
      .description('verify a proposal, apply it on lane/<lane>/<id>, push, open and label the pull request, sign the applied attestation (execute lane)')
      .argument('[id]', 'handoff id (or use --next)')
      .requiredOption('--lane <lane>', 'the execute lane')
      .option('--next', 'take the oldest pending handoff (never the same one as another executor)'),
  ).action(async (id: string | undefined, o: Common & { lane: string; next?: boolean }) => {
    const out = makePrinter(Boolean(o.json));
    if (Boolean(id) === Boolean(o.next)) throw new InputError('BAD_USAGE', 'give a handoff ID or --next (exactly one)');
    const r = await withContext(o, o.lane, (ctx) => accept(ctx, { lane: o.lane, target: id ? { id } : { next: true } }));
    out.result(r, () => [
      `${r.resumed ? 'finished' : 'accepted'} ${r.id}: ${r.state}`,
      `  branch    ${r.branch}`,
      `  commit    ${r.commit}`,
      `  pr        #${r.pr.number} ${r.pr.url} [${r.pr.labels.join(', ')}]`,
      `  applied   ${r.appliedBundlePath}`,
      ...r.verification.map((c) => `  ok        ${c.check}${c.detail ? `: ${escapeControl(c.detail)}` : ''}`),
    ]);
  });

  common(
    handoff
      .command('list')
      .description('list handoffs with state, lanes, branch and pull request')
      .option('--state <state>', `only this state (${HANDOFF_STATES.join(', ')})`),
  ).action(async (o: Common & { state?: string }) => {
    const out = makePrinter(Boolean(o.json));
    if (o.state && !(HANDOFF_STATES as readonly string[]).includes(o.state)) throw new InputError('BAD_USAGE', `--state must be one of ${HANDOFF_STATES.join(', ')}`);
    const rows = await withContext(o, undefined, (ctx) => listHandoffs(ctx, { state: o.state as HandoffState | undefined }));
    out.result(rows, () =>
      rows.length === 0
        ? ['no handoffs']
        : rows.map((h) => escapeControl(`${h.id}  ${h.state.padEnd(9)}  ${h.proposerLane}→${h.executorLane ?? '-'}  ${h.pr ? `PR #${h.pr.number}` : h.rejectReason ? `rejected: ${h.rejectReason}` : ''}  ${h.title}`)),
    );
  });

  common(handoff.command('show').description('one handoff: state, evidence paths, branch, commit, pull request').argument('<id>', 'handoff id')).action(
    async (id: string, o: Common) => {
      const out = makePrinter(Boolean(o.json));
      const h = await withContext(o, undefined, (ctx) => showHandoff(ctx, id));
      out.result(h, () => Object.entries(h).map(([k, v]) => `${k.padEnd(18)} ${escapeControl(v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v))}`));
    },
  );

  common(
    handoff.command('trace').description('the whole chain (statement, signer, verification, commit, PR, applied attestation), re-verifying every signature').argument('<id>', 'handoff id'),
  ).action(async (id: string, o: Common) => {
    const out = makePrinter(Boolean(o.json));
    const t = await withContext(o, undefined, (ctx) => traceHandoff(ctx, id));
    out.result(t, () => [escapeControl(`${t.handoff.id} ${t.handoff.state}  ${t.handoff.title}`), ...t.chain.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.step.padEnd(20)} ${escapeControl(c.detail)}`)]);
    if (!t.ok) {
      if (!out.json) process.stderr.write(`duallane: TRACE_BROKEN: a link of handoff ${id} does not verify\n`);
      process.exitCode = 1;
    }
  });
}
