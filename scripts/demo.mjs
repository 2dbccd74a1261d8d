#!/usr/bin/env node
// npm run demo: the lane handoff end to end on one machine, no services, no network.
// In a temporary directory: a sample repository, `duallane init`, the propose lane (codex) proposes a
// real change, the execute lane (claude) accepts it, then two attacks are refused: a replay of the
// accepted bundle and a tampered artifact. Exits non-zero when any step does not behave as expected.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'duallane');
// The directory is kept (the summary says where to look) unless --clean is given.
const clean = process.argv.includes('--clean');

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.log('building duallane (dist/ is missing) ...');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}

const work = mkdtempSync(join(tmpdir(), 'duallane-demo-'));
const repo = join(work, 'sample-repo');
const env = {
  ...process.env,
  CI: 'true',
  GIT_AUTHOR_NAME: 'Demo',
  GIT_AUTHOR_EMAIL: 'demo@example.invalid',
  GIT_COMMITTER_NAME: 'Demo',
  GIT_COMMITTER_EMAIL: 'demo@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  DATABASE_URL: '', // the demo uses the embedded ledger even where a server URL is set
};
const results = [];
let failed = false;

const git = (...args) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...args], { cwd: repo, env, encoding: 'utf8' }).trim();
function cli(args, cwd = repo) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: tryJson(r.stdout) };
}
function tryJson(s) {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
function expect(step, ok, detail) {
  results.push({ step, result: ok ? 'ok' : 'FAILED', detail: detail.length > 90 ? `${detail.slice(0, 89)}…` : detail });
  if (!ok) failed = true;
  console.log(`${ok ? '✔' : '✘'} ${step}: ${detail}`);
  return ok;
}
function write(path, content) {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), content);
}

try {
  // 1. A sample repository and `duallane init`.
  mkdirSync(repo);
  git('init', '-q');
  write('README.md', '# sample\n\nA tiny service.\n');
  write('src/greet.js', "export function greet(name) {\n  return 'Hello ' + name;\n}\n");
  write('test/greet.test.js', "import { greet } from '../src/greet.js';\nif (greet('x') !== 'Hello x') throw new Error('greet');\n");
  git('add', '-A');
  git('commit', '-q', '-m', 'sample: initial');
  const init = cli(['init', '--json']);
  expect('init', init.code === 0, init.code === 0 ? `duallane.yaml, keys for codex and claude, embedded ledger in ${repo}/.duallane` : init.stderr.trim());
  git('add', '-A');
  git('commit', '-q', '-m', 'duallane init');
  // Publish main on the local forge (the bare remote): proposals must build on the forge's target branch.
  git('init', '-q', '--bare', join(repo, '.duallane', 'remote.git'));
  git('push', '-q', join(repo, '.duallane', 'remote.git'), 'HEAD:refs/heads/main');

  // 2. The propose lane proposes a real change (from its working tree).
  write('src/greet.js', "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n");
  write('test/greet.test.js', "import { greet } from '../src/greet.js';\nif (greet('x') !== 'Hello, x!') throw new Error('greet');\n");
  const p = cli(['handoff', 'propose', '--lane', 'codex', '--title', 'greet: punctuate the greeting', '--summary', 'Use a template literal and end with "!".', '--json']);
  const id = p.json?.id;
  expect('propose (codex)', p.code === 0 && typeof id === 'string', p.code === 0 ? `${id}: ${p.json.changedPaths.length} paths, artifact ${p.json.artifactDigest.slice(0, 19)}…` : p.stderr.trim());
  git('checkout', '-q', '--', '.'); // the proposer's working tree is its own business; the executor applies the artifact

  // 3. The execute lane accepts: verify, branch, commit, push, PR, labels, applied attestation.
  const a = cli(['handoff', 'accept', id, '--lane', 'claude', '--json']);
  expect('accept (claude)', a.code === 0 && a.json?.state === 'pr_opened', a.code === 0 ? `${a.json.state}, ${a.json.verification.length} checks passed` : a.stderr.trim());
  if (a.code === 0) {
    const remote = join(repo, '.duallane', 'remote.git');
    const remoteSha = execFileSync('git', ['rev-parse', `refs/heads/${a.json.branch}`], { cwd: remote, encoding: 'utf8' }).trim();
    expect('branch pushed', remoteSha === a.json.commit, `${a.json.branch} at ${remoteSha.slice(0, 12)} in ${remote}`);
    const msg = git('log', '-1', '--format=%B', a.json.commit);
    expect('commit trailers', msg.includes(`Handoff-Id: ${id}`) && msg.includes('Proposed-By-Lane: codex'), msg.split('\n').filter((l) => /^(Handoff|Proposed)/.test(l)).join('; '));
    expect('pull request', a.json.pr.number >= 1, `#${a.json.pr.number} [${a.json.pr.labels.join(', ')}] ${a.json.pr.url}`);
    const again = cli(['handoff', 'accept', id, '--lane', 'claude', '--json']);
    expect('re-run is a no-op', again.code === 0 && again.json.commit === a.json.commit && again.json.pr.number === a.json.pr.number, 'same commit, same PR, no second branch');
    const t = cli(['handoff', 'trace', id, '--json']);
    expect('trace re-verifies', t.code === 0 && t.json?.ok === true, t.json ? t.json.chain.map((c) => `${c.step}:${c.ok ? 'ok' : 'FAIL'}`).join(' ') : t.stderr.trim());
  }

  // 3b. WS1 on the same artifact: SLSA v1 provenance by the propose lane, verified with the builder
  //     pinned; the same bundle against the other lane's key is refused.
  const prov = join(work, 'handoff.provenance.json');
  const keys = join(repo, '.duallane', 'keys');
  const at = cli(['attest', p.json.artifactPath, '--key', join(keys, 'codex.key'), '--predicate-type', 'slsa', '--bundle', prov, '--json']);
  const ver = cli(['verify', p.json.artifactPath, '--bundle', prov, '--key', join(keys, 'codex.pub'), '--predicate-type', 'https://slsa.dev/provenance/v1', '--builder-id', 'https://duallane.dev/builders/local', '--json']);
  expect('SLSA provenance verified', at.code === 0 && ver.code === 0, at.code === 0 && ver.code === 0 ? `${prov} (builder pinned)` : (at.stderr || ver.stderr).trim());
  const wrongKey = cli(['verify', p.json.artifactPath, '--bundle', prov, '--key', join(keys, 'claude.pub'), '--json']);
  expect('wrong lane key rejected', wrongKey.code === 1 && wrongKey.json?.error?.code === 'SIGNATURE_INVALID', `exit ${wrongKey.code} ${wrongKey.json?.error?.code ?? wrongKey.stderr.trim()}`);

  // 4. Attack: replay the accepted bundle and artifact.
  const replay = cli(['handoff', 'submit', '--bundle', p.json.bundlePath, '--artifact', p.json.artifactPath, '--json']);
  expect('replay rejected', replay.code === 1 && replay.json?.error?.code === 'REPLAY', `exit ${replay.code} ${replay.json?.error?.code ?? replay.stderr.trim()}`);

  // 5. Attack: a second proposal whose stored artifact is tampered with after signing.
  write('README.md', '# sample\n\nA tiny service that greets.\n');
  const p2 = cli(['handoff', 'propose', '--lane', 'codex', '--title', 'docs: say what it does', '--json']);
  git('checkout', '-q', '--', '.');
  if (expect('second proposal', p2.code === 0, p2.code === 0 ? p2.json.id : p2.stderr.trim())) {
    chmodSync(p2.json.artifactPath, 0o644);
    appendFileSync(p2.json.artifactPath, 'diff --git a/.github/workflows/x.yml b/.github/workflows/x.yml\n');
    const a2 = cli(['handoff', 'accept', p2.json.id, '--lane', 'claude', '--json']);
    expect('tampered artifact rejected', a2.code === 1 && a2.json?.error?.code === 'ARTIFACT_TAMPERED', `exit ${a2.code} ${a2.json?.error?.code ?? a2.stderr.trim()}`);
    const s2 = cli(['handoff', 'show', p2.json.id, '--json']);
    expect('recorded as rejected', s2.json?.state === 'rejected', `state ${s2.json?.state}, reason ${s2.json?.rejectReason}`);
  }

  // 6. Where to look.
  const list = cli(['handoff', 'list', '--json']);
  console.log('\nSummary');
  console.table(results);
  if (Array.isArray(list.json)) {
    console.table(list.json.map((h) => ({ id: h.id, state: h.state, lanes: `${h.proposerLane}→${h.executorLane ?? '-'}`, branch: h.branch ?? '-', pr: h.pr ? `#${h.pr.number}` : '-', reason: h.rejectReason ?? '' })));
  }
  console.log(`Look here:
  repository      ${repo}
  remote (forge)  ${join(repo, '.duallane', 'remote.git')}
  store           ${join(repo, '.duallane', 'store', 'sha256')}
  ledger          ${join(repo, '.duallane', 'ledger')}   (duallane handoff list|show|trace --dir ${repo})`);
} catch (e) {
  failed = true;
  console.error(`demo failed: ${e?.stack ?? e}`);
} finally {
  if (clean && !failed) rmSync(work, { recursive: true, force: true });
  else console.log(`(kept ${work}; \`npm run demo -- --clean\` removes it after a successful run)`);
}
process.exitCode = failed ? 1 : 0;
