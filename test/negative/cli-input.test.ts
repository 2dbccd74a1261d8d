import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { GIT_ENV } from '../support/git-env.js';

/**
 * Bad paths at every file-taking flag of every command, as a user types them: a directory where a
 * file belongs and the reverse, a missing file, a missing parent, a path through a file, no
 * permission. Each must exit 2 with exactly one `duallane: CODE: ...` line on stderr (no stack
 * trace, never exit 70 "internal error"), and nothing may be created for an uninitialised --dir.
 *
 * Placeholders: F a file, D an empty directory, M a missing path, FX a path through a file (F/x),
 * DX a missing parent (D/missing/x), R an initialised git repository, N a directory without
 * duallane.yaml, PUB/KEY the codex key pair of R.
 */
type Case = [args: string, code: string];
const ULID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const IMAGE = `x@sha256:${'0'.repeat(64)}`;

const PATH_CASES: Case[] = [
  ['digest D', 'INPUT_UNREADABLE'],
  ['digest M', 'INPUT_UNREADABLE'],
  ['sign D --key KEY --bundle DX', 'INPUT_UNREADABLE'],
  ['sign F --key D --bundle DX', 'INPUT_UNREADABLE'],
  ['sign F --key KEY --bundle D', 'INPUT_UNREADABLE'],
  ['sign F --key KEY --bundle FX', 'INPUT_UNREADABLE'],
  ['attest F --key KEY --bundle D', 'INPUT_UNREADABLE'],
  ['attest F --key KEY --bundle DX --predicate-type https://x.test/p --predicate D', 'INPUT_UNREADABLE'],
  ['attest F --key KEY --bundle DX --predicate-type https://x.test/p --predicate M', 'INPUT_UNREADABLE'],
  ['verify F --bundle D --key PUB', 'INPUT_UNREADABLE'],
  ['verify F --bundle M --key PUB', 'INPUT_UNREADABLE'],
  ['verify F --bundle F --key D', 'INPUT_UNREADABLE'],
  ['verify F --bundle F --certificate-identity a --certificate-oidc-issuer b --trusted-root D', 'INPUT_UNREADABLE'],
  ['verify --batch D --key PUB', 'INPUT_UNREADABLE'],
  ['keys generate --lane codex --out F', 'INPUT_INVALID'],
  ['keys generate --lane codex --out FX', 'INPUT_INVALID'],
  ['policy lint M', 'POLICY_UNREADABLE'],
  ['policy test M', 'TEST_FILE_INVALID'],
  ['policy apply M -r F', 'POLICY_UNREADABLE'],
  ['policy apply POL -r M', 'POLICY_UNREADABLE'],
  ['policy apply POL -r F -f D', 'POLICY_UNREADABLE'],
  ['policy bundle POL --out D', 'OUTPUT_UNWRITABLE'],
  ['policy bundle POL --out FX', 'OUTPUT_UNWRITABLE'],
  ['policy bundle F --out DX', 'INPUT_INVALID'],
  ['policy bundle M --out DX', 'INPUT_UNREADABLE'],
  ['policy verify-bundle D --bundle F --key PUB', 'INPUT_UNREADABLE'],
  ['policy verify-bundle F --bundle D --key PUB', 'INPUT_UNREADABLE'],
  ['policy push D 127.0.0.1:1/x:y --unsigned', 'INPUT_UNREADABLE'],
  ['policy pull 127.0.0.1:1/x:y --out D --insecure-registry 127.0.0.1:1', 'OUTPUT_UNWRITABLE'],
  ['admission serve --tls-cert D --tls-key F --policies POL --port 18443', 'TLS_INVALID'],
  ['admission serve --tls-cert M --tls-key M --policies POL --port 18443', 'TLS_INVALID'],
  ['admission manifest --image IMAGE --ca-file D', 'TLS_INVALID'],
  ['labels lint D', 'FILE_UNREADABLE'],
  ['labels sync --repo a/b --file D --dry-run', 'FILE_UNREADABLE'],
  ['dashboard generate --out D', 'OUTPUT_UNWRITABLE'],
  ['dashboard generate --out FX', 'OUTPUT_UNWRITABLE'],
  ['init --dir F', 'INPUT_INVALID'],
  ['init --dir FX', 'INPUT_INVALID'],
  ['db migrate --dir F', 'INPUT_INVALID'],
  ['db migrate --dir M', 'INPUT_UNREADABLE'],
  ['creds check --lane codex --offline --dir F', 'INPUT_INVALID'],
  ['exec --lane codex --dir M -- true', 'INPUT_UNREADABLE'],
  ['handoff list --dir F', 'INPUT_INVALID'],
  ['handoff propose --lane codex --title t --dir R --repo F', 'INPUT_INVALID'],
  ['handoff propose --lane codex --title t --dir R --repo M', 'INPUT_UNREADABLE'],
  ['handoff propose --lane codex --title t --dir R --patch D', 'INPUT_UNREADABLE'],
  ['handoff propose --lane codex --title t --dir R --trusted-root D', 'INPUT_UNREADABLE'],
  ['handoff submit --bundle D --artifact F --dir R', 'INPUT_UNREADABLE'],
  ['handoff submit --bundle F --artifact M --dir R', 'INPUT_UNREADABLE'],
  ['handoff accept --next --lane claude --dir R --repo FX', 'INPUT_INVALID'],
  ['serve --dir F --port 0', 'INPUT_INVALID'],
  ['serve token list --dir M', 'INPUT_UNREADABLE'],
];

/** Every command that reads duallane.yaml or opens the ledger, pointed at a directory without one. */
const NOT_INITIALIZED_CASES: string[] = [
  'db migrate --dir N',
  'db roles apply --print-sql --dir N',
  'db verify-audit --dir N',
  'creds check --lane codex --offline --dir N',
  'exec --lane codex --dir N -- true',
  'handoff list --dir N',
  `handoff show ${ULID} --dir N`,
  `handoff trace ${ULID} --dir N`,
  `handoff accept ${ULID} --lane claude --dir N`,
  'handoff propose --lane codex --title t --dir N',
  'handoff submit --bundle F --artifact F --dir N',
  'serve --dir N --port 0',
  'serve token create --lane codex --dir N',
  'serve token list --dir N',
  'serve token revoke tok_0000000000000000 --dir N',
];

let root: string;
let names: Record<string, string>;
const expand = (args: string) => args.split(' ').map((a) => names[a] ?? a);

function expectOneLine(r: CliResult, exit: number, code: string): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect({ exit: r.code, code: /^duallane: ([A-Z_]+): /.exec(lines[0] ?? '')?.[1], lines: lines.length }).toEqual({ exit, code, lines: 1 });
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'duallane-cli-input-'));
  const repo = join(root, 'repo');
  mkdirSync(repo);
  const git = (...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...a], { cwd: repo, env: { ...process.env, ...GIT_ENV } });
  git('init', '-q');
  writeFileSync(join(repo, 'README.md'), '# r\n');
  const init = await runCli(['init', '--no-ledger'], { cwd: repo, env: GIT_ENV });
  if (init.code !== 0) throw new Error(init.stderr);
  git('add', '-A');
  git('commit', '-q', '-m', 'init');
  writeFileSync(join(root, 'f'), 'hello\n');
  mkdirSync(join(root, 'd'));
  mkdirSync(join(root, 'noinit'));
  mkdirSync(join(root, 'pol'));
  writeFileSync(join(root, 'pol', 'p.yaml'), 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate: {message: m, pattern: {metadata: {name: "?*"}}}\n');
  names = {
    F: join(root, 'f'),
    D: join(root, 'd'),
    M: join(root, 'missing'),
    FX: join(root, 'f', 'x'),
    DX: join(root, 'd', 'missing', 'x'),
    R: repo,
    N: join(root, 'noinit'),
    POL: join(root, 'pol'),
    PUB: join(repo, '.duallane/keys/codex.pub'),
    KEY: join(repo, '.duallane/keys/codex.key'),
    IMAGE,
  };
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.concurrent('bad paths exit 2 with one line, never 70', () => {
  it.each(PATH_CASES)('%s -> %s', async (args, code) => {
    expectOneLine(await runCli(expand(args), { cwd: root, env: GIT_ENV }), 2, code);
  });
});

describe('a --dir without duallane.yaml', () => {
  it.each(NOT_INITIALIZED_CASES)('%s -> NOT_INITIALIZED, creates nothing', async (args) => {
    expectOneLine(await runCli(expand(args), { cwd: root, env: { ...GIT_ENV, DATABASE_URL: '' } }), 2, 'NOT_INITIALIZED');
    expect(readdirSync(names.N!)).toEqual([]);
  });
});

describe.skipIf(process.getuid?.() === 0)('permission denied (needs a non-root user)', () => {
  it('an unreadable file and an unwritable directory exit 2', async () => {
    const locked = join(root, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    const secret = join(root, 'secret');
    writeFileSync(secret, 'x', { mode: 0o000 });
    try {
      expectOneLine(await runCli(['digest', secret]), 2, 'INPUT_UNREADABLE');
      expectOneLine(await runCli(['policy', 'bundle', names.POL!, '--out', join(locked, 'b.tgz')]), 2, 'OUTPUT_UNWRITABLE');
      expectOneLine(await runCli(['keys', 'generate', '--lane', 'codex', '--out', join(locked, 'k')]), 2, 'OUTPUT_UNWRITABLE');
      expectOneLine(await runCli(['init', '--dir', join(locked, 'r')]), 2, 'OUTPUT_UNWRITABLE');
    } finally {
      chmodSync(locked, 0o700);
      chmodSync(secret, 0o600);
    }
  });
});
