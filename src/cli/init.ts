import { generateKeyPairSync } from 'node:crypto';
import { access, appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateKeyPair } from '../attest/index.js';
import { CONFIG_FILE_NAME, DEFAULT_CONFIG_YAML, InputError, loadConfig, resolveConfigPath, type DuallaneConfig, type LaneConfig } from '../config/index.js';
import { git } from '../forge/index.js';
import { openLedger, resolveLedgerTarget } from '../ledger/index.js';
import { ensureDirectory } from './cli-files.js';
import { makePrinter } from './output.js';
import { initFilesToCommit } from './worktree-includes.js';

type Action = 'created' | 'kept' | 'appended';
interface Step {
  path: string;
  action: Action;
}


/** Creates `path` with `content` unless it exists (O_EXCL: never overwrites, even racing another init). */
async function createOnce(path: string, content: string, mode = 0o644): Promise<Action> {
  await mkdir(dirname(path), { recursive: true });
  try {
    const fh = await open(path, 'wx', mode);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    return 'created';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'kept';
    throw new InputError('INPUT_UNREADABLE', `cannot create ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function ensureLaneKeys(config: DuallaneConfig, lane: LaneConfig): Promise<Step[]> {
  if (lane.identity.kind !== 'key') return [];
  const keyPath = resolveConfigPath(config, lane.identity.privateKey);
  const pubPath = resolveConfigPath(config, lane.identity.publicKey);
  if (await exists(keyPath)) return [{ path: keyPath, action: 'kept' }];
  const conventional = basename(keyPath) === `${lane.name}.key` && pubPath === join(dirname(keyPath), `${lane.name}.pub`);
  if (conventional) {
    const r = await generateKeyPair({ lane: lane.name, outDir: dirname(keyPath) });
    return [
      { path: r.keyPath, action: 'created' },
      { path: r.pubPath, action: 'created' },
    ];
  }
  // Non-conventional file names: same format as attest's generator (ECDSA P-256, PKCS#8 / SPKI PEM).
  await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = await createOnce(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  const pub = await createOnce(pubPath, publicKey.export({ format: 'pem', type: 'spki' }) as string, 0o644);
  return [
    { path: keyPath, action: key },
    { path: pubPath, action: pub },
  ];
}

/** Placeholders only: the names a lane may hold, never a value that could be a secret. */
function envExample(lane: LaneConfig): string {
  const credential = (name: string) => /TOKEN|KEY|SECRET|PASSWORD|DATABASE_URL/.test(name);
  const lines = [
    `# Environment for lane ${lane.name} (${lane.kind}). Copy to .env.${lane.name} (git-ignored) and fill in.`,
    `# \`duallane exec --lane ${lane.name} -- CMD\` passes ONLY the variables in env.allow of duallane.yaml.`,
    `# Placeholders only: never commit a real value.`,
  ];
  for (const name of lane.env.allow.filter((n) => !n.includes('*') && credential(n))) {
    if (name === lane.db.urlEnv) lines.push(`# server mode: this lane logs in as its own role`, `${name}=postgres://${lane.db.role}:CHANGE_ME@127.0.0.1:5432/duallane`);
    else if (name === lane.github.tokenEnv) {
      const perms = Object.entries(lane.github.permissions).map(([k, v]) => `${k}:${v}`).join(' ');
      lines.push(`# a GitHub token holding at most: ${perms}`, `${name}=CHANGE_ME`);
    } else lines.push(`${name}=CHANGE_ME`);
  }
  return lines.join('\n') + '\n';
}

async function ensureGitignore(root: string, entries: string[]): Promise<Step[]> {
  const path = join(root, '.gitignore');
  const current = (await exists(path)) ? await readFile(path, 'utf8') : '';
  const have = new Set(current.split('\n').map((l) => l.trim().replace(/^\//, '')));
  const missing = entries.filter((e) => !have.has(e) && !have.has(e.replace(/\/$/, '')));
  if (missing.length === 0) return [{ path, action: 'kept' }];
  const prefix = current.length > 0 && !current.endsWith('\n') ? '\n' : '';
  await appendFile(path, `${prefix}# duallane: ledger, keys and per-lane secrets stay out of git\n${missing.join('\n')}\n`);
  return [{ path, action: current ? 'appended' : 'created' }];
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('scaffold duallane.yaml, keys for both lanes, .env.<lane>.example files and .gitignore entries (never overwrites); prepares the embedded ledger')
    .option('--dir <dir>', 'directory to initialise', process.cwd())
    .option('--no-ledger', 'do not create or migrate the embedded ledger')
    .option('--json', 'print {"dir","steps","ledger","commit","publish"} as JSON')
    .action(async (opts: { dir: string; ledger: boolean; json?: boolean }) => {
      const out = makePrinter(Boolean(opts.json));
      const root = await ensureDirectory(resolve(opts.dir), '--dir');
      const steps: Step[] = [{ path: join(root, CONFIG_FILE_NAME), action: await createOnce(join(root, CONFIG_FILE_NAME), DEFAULT_CONFIG_YAML) }];
      // An existing duallane.yaml is the user's: it is loaded (and validated) as it is.
      const config = await loadConfig(root, { requireFile: true });
      for (const lane of config.lanes) steps.push(...(await ensureLaneKeys(config, lane)));
      for (const lane of config.lanes) {
        const p = join(root, `.env.${lane.name}.example`);
        steps.push({ path: p, action: await createOnce(p, envExample(lane)) });
      }
      steps.push(...(await ensureGitignore(root, ['.duallane/', ...config.lanes.map((l) => `.env.${l.name}`)])));

      let ledger: { kind: string; where: string; prepared: boolean } | null = null;
      if (opts.ledger) {
        const target = resolveLedgerTarget(config);
        if (target.kind === 'embedded') {
          const l = await openLedger(config);
          ledger = { kind: l.kind, where: l.where, prepared: true };
          await l.close();
        } else {
          ledger = { kind: 'server', where: 'DATABASE_URL', prepared: false };
        }
      }
      // `handoff propose --from-worktree` proposes untracked files too: these must be committed first
      // (propose refuses them with INIT_UNCOMMITTED), or the first proposal would carry them.
      const commit = initFilesToCommit(config);
      // The execute lane accepts only proposals based on the target branch as the forge has it: with
      // the local forge, that is the bare remote init creates here, which the user publishes to.
      let publish: string | null = null;
      if (config.forge.kind === 'local') {
        const remote = resolveConfigPath(config, config.forge.remote);
        const existed = await access(join(remote, 'HEAD')).then(() => true, () => false);
        if (!existed) {
          await mkdir(remote, { recursive: true });
          await git(['init', '--bare', '--quiet', remote], { cwd: remote });
        }
        steps.push({ path: remote, action: existed ? 'kept' : 'created' });
        publish = `git push ${relative(root, remote) || remote} HEAD:main`;
      }
      out.result({ dir: root, steps, ledger, commit, publish }, () => [
        ...steps.map((s) => `${s.action.padEnd(8)} ${relative(root, s.path) || s.path}`),
        ...(ledger?.prepared ? [`ready    embedded ledger at ${relative(root, ledger.where)} (migrated, lane roles applied)`] : []),
        ...(ledger && !ledger.prepared ? ['next     server mode: run `duallane db migrate` and `duallane db roles apply` as the database administrator'] : []),
        'next     commit these files before the first `handoff propose` (it proposes every uncommitted change, untracked files included):',
        `         git add ${commit.join(' ')} && git commit -m "duallane init"`,
        ...(publish
          ? ['next     publish the target branch on the local forge (the execute lane accepts only proposals based on it):', `         ${publish}`]
          : []),
      ]);
    });
}
