import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/attest/index.js';
import { DEFAULT_CONFIG_YAML, loadConfig, type DuallaneConfig } from '../../src/config/index.js';
import { accept, makeContext, propose, HandoffError, type HandoffContext } from '../../src/handoff/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { gatePostgres } from '../support/services.js';
import { FakeGitHub } from '../forge/fake-github.js';
import { publishToLocalForge } from '../support/local-forge.js';
import { GIT_ENV } from './fixture.js';

// The propose/accept state machine through its module API, on real git and real ledgers.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setupRepo(configYaml = DEFAULT_CONFIG_YAML): Promise<{ dir: string; git: (...a: string[]) => string; config: DuallaneConfig }> {
  const root = mkdtempSync(join(tmpdir(), 'duallane-domain-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'repo');
  mkdirSync(dir);
  const git = (...a: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...a], { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();
  git('init', '-q');
  writeFileSync(join(dir, 'duallane.yaml'), configYaml);
  writeFileSync(join(dir, '.gitignore'), '.duallane/\n');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  publishToLocalForge(dir);
  for (const lane of ['codex', 'claude']) await generateKeyPair({ lane, outDir: join(dir, '.duallane', 'keys') });
  return { dir, git, config: await loadConfig(dir) };
}

function ctxFor(config: DuallaneConfig, ledger: Ledger, env: NodeJS.ProcessEnv = {}): HandoffContext {
  return makeContext(config, ledger, { env: { ...process.env, ...env } });
}

describe('tracing (module API)', () => {
  it('propose and accept emit duallane.propose, duallane.verify, one duallane.accept.step per step, and duallane.accept', async () => {
    const { InMemorySpanExporter } = await import('@opentelemetry/sdk-trace-base');
    const { initTracing } = await import('../../src/observability/tracing-setup.js');
    const mem = new InMemorySpanExporter();
    const tracing = initTracing({ env: {}, exporter: mem });
    cleanups.push(() => tracing.shutdown());
    const { dir, config } = await setupRepo();
    const ledger = await openLedger(config, { env: { DATABASE_URL: '' } });
    cleanups.push(() => ledger.close());
    const ctx = ctxFor(config, ledger);
    writeFileSync(join(dir, 'a.txt'), 'traced\n');
    const p = await propose(ctx, { lane: 'codex', title: 'traced', source: { kind: 'worktree' } });
    await accept(ctx, { lane: 'claude', target: { id: p.id } });
    const spans = mem.getFinishedSpans();
    const propose1 = spans.find((s) => s.name === 'duallane.propose');
    expect(propose1?.attributes).toMatchObject({ 'duallane.lane': 'codex', 'duallane.handoff.id': p.id, 'duallane.result': 'success' });
    const acceptSpan = spans.find((s) => s.name === 'duallane.accept');
    expect(acceptSpan?.attributes).toMatchObject({ 'duallane.lane': 'claude', 'duallane.handoff.id': p.id, 'duallane.result': 'success' });
    const steps = spans.filter((s) => s.name === 'duallane.accept.step');
    expect(steps.map((s) => s.attributes['duallane.step'])).toEqual(expect.arrayContaining(['claimed', 'verified', 'applied', 'pushed', 'pr_opened']));
    for (const s of steps) expect(s.parentSpanContext?.spanId).toBe(acceptSpan!.spanContext().spanId);
    expect(spans.some((s) => s.name === 'duallane.verify' && s.spanContext().traceId === acceptSpan!.spanContext().traceId)).toBe(true);
  });
});

describe('accept (module API)', () => {
  it('a signed statement re-recorded under another id, digest and nonce is rejected before anything is applied', async () => {
    const { dir, config } = await setupRepo();
    const ledger = await openLedger(config, { env: { DATABASE_URL: '' } });
    cleanups.push(() => ledger.close());
    const ctx = ctxFor(config, ledger);
    writeFileSync(join(dir, 'a.txt'), 'b\n');
    const p = await propose(ctx, { lane: 'codex', title: 'one', source: { kind: 'worktree' } });
    await accept(ctx, { lane: 'claude', target: { id: p.id } });
    // A propose-lane database writer re-records the same signed statement under a new id and digest
    // alias (what a compromised proposer could insert directly, bypassing `submit`).
    await ledger.withLane('codex', (tx) =>
      tx.insertHandoff({
        id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        statementDigest: `sha256:${'e'.repeat(64)}`,
        artifactDigest: p.artifactDigest,
        bundlePath: p.bundlePath,
        artifactPath: p.artifactPath,
        baseCommit: p.baseCommit,
        targetBranch: 'main',
        expiresAt: p.expiresAt,
        title: 'again',
        nonce: 'f'.repeat(64),
      }),
    );
    const e = await accept(ctx, { lane: 'claude', target: { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' } }).catch((x) => x);
    expect(e).toBeInstanceOf(HandoffError);
    expect(e.code).toBe('LEDGER_MISMATCH'); // the signed id/digest/nonce do not match that row
    const row = await ledger.withLane('claude', (tx) => tx.getHandoff('01ARZ3NDEKTSV4RRFFQ69G5FAV'));
    expect(row).toMatchObject({ state: 'rejected', rejectReason: 'LEDGER_MISMATCH', branch: null });
  }, 120_000);

  it('opens the pull request on the GitHub forge: push to the remote, PR, labels, one comment', async () => {
    const gh = new FakeGitHub('acme', 'widgets');
    await gh.start();
    cleanups.push(() => gh.stop());
    gh.requireBranch = false;
    const remoteRoot = mkdtempSync(join(tmpdir(), 'duallane-gh-remote-'));
    cleanups.push(() => rmSync(remoteRoot, { recursive: true, force: true }));
    execFileSync('git', ['init', '-q', '--bare', remoteRoot]);
    const yaml = DEFAULT_CONFIG_YAML.replace(/forge:\n {2}kind: local.*\n {2}remote: .*\n/, `forge:\n  kind: github\n  remote: ${remoteRoot}\n  repo: acme/widgets\n  apiUrl: ${gh.url}\n`);
    expect(yaml).toContain('kind: github');
    const { dir, config } = await setupRepo(yaml);
    publishToLocalForge(dir, { remote: remoteRoot });
    const ledger = await openLedger(config, { env: { DATABASE_URL: '' } });
    cleanups.push(() => ledger.close());
    const ctx = ctxFor(config, ledger, { GITHUB_TOKEN: 'ghs_test', GITHUB_API_URL: '' });
    writeFileSync(join(dir, 'a.txt'), 'github\n');
    const p = await propose(ctx, { lane: 'codex', title: 'via github', source: { kind: 'worktree' } });
    const a = await accept(ctx, { lane: 'claude', target: { id: p.id } });
    expect(a.pr).toMatchObject({ forge: 'github', number: 1, url: 'https://github.com/acme/widgets/pull/1', labels: ['handoff:verified', 'lane:codex', 'provenance:verified'] });
    expect(execFileSync('git', ['rev-parse', `refs/heads/${a.branch}`], { cwd: remoteRoot, encoding: 'utf8' }).trim()).toBe(a.commit);
    expect(gh.comments.get(1)).toHaveLength(1);
    expect(gh.comments.get(1)![0]!.body).toContain('| signature | ok |');
    const again = await accept(ctx, { lane: 'claude', target: { id: p.id } });
    expect(again.pr.number).toBe(1);
    expect(gh.pulls).toHaveLength(1);
    expect(gh.comments.get(1)).toHaveLength(1);
    expect(gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1);
  }, 120_000);
});

const pgOk = await gatePostgres();
describe.skipIf(!pgOk)('accept --next on PostgreSQL', () => {
  const admin = `postgres://postgres@${process.env.PGHOST ?? '127.0.0.1'}:${process.env.PGPORT ?? 5432}`;
  const db = `duallane_handoff_${process.pid}_${Date.now() % 100000}`;
  afterAll(async () => {
    const c = new pg.Client({ connectionString: `${admin}/postgres` });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await c.end();
  });

  it('two executors draining the queue concurrently take each handoff exactly once', async () => {
    const c = new pg.Client({ connectionString: `${admin}/postgres` });
    await c.connect();
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
    const env = { DATABASE_URL: `${admin}/${db}` };
    const { dir, git, config } = await setupRepo(DEFAULT_CONFIG_YAML.replace('kind: auto', 'kind: server'));
    const adminLedger = await openLedger(config, { env });
    cleanups.push(() => adminLedger.close());
    await adminLedger.migrate();
    await adminLedger.applyRoles(config);
    const proposer = ctxFor(config, adminLedger, env);
    const N = 6;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      writeFileSync(join(dir, `f${i}.txt`), `${i}\n`);
      ids.push((await propose(proposer, { lane: 'codex', title: `change ${i}`, source: { kind: 'worktree' } })).id);
      git('clean', '-qf', '--', `f${i}.txt`);
    }
    const executors = await Promise.all([0, 1].map(() => openLedger(config, { env, lane: 'claude' })));
    for (const l of executors) cleanups.push(() => l.close());
    const taken: string[][] = [[], []];
    await Promise.all(
      executors.map(async (l, k) => {
        const ctx = ctxFor(config, l, env);
        for (;;) {
          try {
            taken[k]!.push((await accept(ctx, { lane: 'claude', target: { next: true } })).id);
          } catch (e) {
            if (e instanceof HandoffError && e.code === 'NOTHING_PENDING') return;
            throw e;
          }
        }
      }),
    );
    expect([...taken[0]!, ...taken[1]!].sort()).toEqual([...ids].sort());
    const rows = await adminLedger.withAdmin((tx) => tx.listHandoffs());
    expect(rows.every((h) => h.state === 'pr_opened')).toBe(true);
    const prs = await adminLedger.withAdmin((tx) => tx.listPullRequests());
    expect(prs.map((p) => p.number).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // Each local pull request is a whole record: base branch, title and description.
    const byId = new Map(rows.map((h) => [h.id, h]));
    for (const p of prs) {
      expect(p.base).toBe(byId.get(p.handoffId)!.targetBranch);
      expect(p.title).toBe(byId.get(p.handoffId)!.title);
      expect(p.body).toContain(`Handoff \`${p.handoffId}\``);
    }
    expect(git('for-each-ref', '--format=%(refname)', 'refs/heads/lane/').split('\n')).toHaveLength(N);
  }, 300_000);
});

describe('keyless propose lane (Fulcio, Rekor and TSA from @sigstore/mock over loopback HTTP)', () => {
  it('a keyless proposal verifies against the lane identity; another identity is UNTRUSTED_SIGNER', async () => {
    const { startFakeSigstore, FAKE_IDENTITY, FAKE_ISSUER } = await import('../support/fake-sigstore.js');
    const fake = await startFakeSigstore();
    cleanups.push(() => fake.close());
    const keylessYaml = (subject: string) =>
      DEFAULT_CONFIG_YAML.replace(
        /kind: key {16}# or: kind: keyless.*\n\s+privateKey: \.duallane\/keys\/codex\.key\n\s+publicKey: \.duallane\/keys\/codex\.pub\n/,
        `kind: keyless\n      issuer: ${FAKE_ISSUER}\n      subject: ${subject}\n`,
      );
    expect(keylessYaml(FAKE_IDENTITY)).toContain(`subject: ${FAKE_IDENTITY}`);
    const { dir, config } = await setupRepo(keylessYaml(FAKE_IDENTITY));
    const ledger = await openLedger(config, { env: { DATABASE_URL: '' } });
    cleanups.push(() => ledger.close());
    const env = { SIGSTORE_ID_TOKEN: fake.token(), SIGSTORE_FULCIO_URL: fake.url, SIGSTORE_REKOR_URL: fake.url, SIGSTORE_TSA_URL: fake.url };
    const ctx = makeContext(config, ledger, { env: { ...process.env, ...env }, trustedRoot: fake.trustedRoot });
    writeFileSync(join(dir, 'a.txt'), 'keyless\n');
    const p = await propose(ctx, { lane: 'codex', title: 'keyless', source: { kind: 'worktree' } });
    const a = await accept(ctx, { lane: 'claude', target: { id: p.id } });
    expect(a.verification.find((c) => c.check === 'signature')!.detail).toContain(FAKE_IDENTITY);

    // The same kind of proposal, but the lane expects another workflow identity.
    const other = await setupRepo(keylessYaml('https://github.com/acme/widget/.github/workflows/other.yml@refs/heads/main'));
    const ledger2 = await openLedger(other.config, { env: { DATABASE_URL: '' } });
    cleanups.push(() => ledger2.close());
    const ctx2 = makeContext(other.config, ledger2, { env: { ...process.env, ...env }, trustedRoot: fake.trustedRoot });
    writeFileSync(join(other.dir, 'a.txt'), 'other\n');
    const q = await propose(ctx2, { lane: 'codex', title: 'wrong identity', source: { kind: 'worktree' } });
    const e = await accept(ctx2, { lane: 'claude', target: { id: q.id } }).catch((x) => x);
    expect(e.code).toBe('UNTRUSTED_SIGNER');
  }, 300_000);
});
