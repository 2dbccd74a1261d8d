#!/usr/bin/env node
// Handoff benchmark: handoffs per second through the ledger (propose + verify + accept, no git, no
// forge), on PostgreSQL against pgbench's TPC-B tps on the same server measured in this run
// (goal >= 25%), and on embedded PGlite (goal >= 100 handoffs/s, absolute).
//
// One handoff is the ledger part of the real flow (src/handoff/propose.ts record(), accept.ts
// takeAndVerify() and finish()):
//   1. propose lane: insertHandoff, one statement (the row + its handoff.proposed audit row; replays
//      answered by the unique indexes), autocommit;
//   2. execute lane, one transaction (BEGIN travels with the lock): lockProposed({ next }) (FOR
//      UPDATE SKIP LOCKED), then verify while holding the row — verifyBundle on the key-signed DSSE
//      bundle (signed up front, outside the timing, like the proposer's own work) +
//      parseHandoffPredicate + the ledger-binding comparisons — then consumeAndTransition: the
//      unique insert into consumed (= single use) and proposed->verified with its audit row, one
//      statement;
//   3. execute lane, one statement each, autocommit: verified->applied; openPullRequest (the PR
//      record + applied->pr_opened + its audit row).
// Audit rows commit unsealed; each Ledger's sealer chains them (duallane_audit_seal) about 50 ms after
// their commit, in batches, concurrently with the run, so that work is counted.
// Not counted: reading bundle/artifact from the content store, git (tree, commit), the forge, the
// applied attestation's signing, and server mode's per-handoff advisory-lock transaction.
//
// PostgreSQL: a fresh database and per-run lane roles (each lane logged in as its own role, as in
// test/ledger/backends.ts), 4 proposer and 6 executor workers (the best of 4, 6 and 8 executors
// here, as pgbench runs at its best, -c 4); pgbench on another fresh database.
// A short warm-up run (not counted), then five rounds alternate pgbench and a handoff run (a fresh
// ledger database each), medians compared. Each round opens all its pool connections before the clock
// starts, as pgbench reports tps without initial connection time.
// Both databases and the roles are dropped at the end, also on failure.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const attest = await import(join(root, 'dist/attest/index.js'));
const { Ledger } = await import(join(root, 'dist/ledger/index.js'));
const { defaultConfig } = await import(join(root, 'dist/config/index.js'));
const handoff = await import(join(root, 'dist/handoff/index.js'));
const { ulid } = await import('ulid');
const pg = (await import('pg')).default;

const quick = process.env.BENCH_QUICK === '1';
const PG_N = quick ? 300 : 2000;
const ROUNDS = quick ? 1 : 5;
const LITE_N = quick ? 200 : 500;
const WARMUP_N = quick ? 100 : 2000;
const MAX_SECS = quick ? 10 : 20;
const WORKERS = Number(process.env.BENCH_HANDOFF_WORKERS ?? 4);
const EXECUTORS = Number(process.env.BENCH_HANDOFF_EXECUTORS ?? 6);
const PGBENCH_SECS = quick ? 5 : 8;
const host = process.env.PGHOST ?? '127.0.0.1';
const port = Number(process.env.PGPORT ?? 5432);
const pgUrl = (user, db) => `postgres://${user}@${host}:${port}/${db}`;
const log = (s) => process.stderr.write(`${s}\n`);
const results = [];
/** Audit rows per handoff: proposed, verified, applied, pr_opened (which carries the pull request). */
const AUDIT_ROWS = 4;

// ---- signed proposals, made up front ----
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trust = { kind: 'key-object', publicKey };
const PROPOSER = 'codex';
const EXECUTOR = 'claude';
const REPO = 'bench/handoff-ledger';

async function makeProposals(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = ulid();
    const artifactDigest = `sha256:${attest.sha256Hex(Buffer.from(`patch ${id}`))}`;
    const created = new Date();
    const predicate = {
      handoffId: id,
      nonce: randomBytes(32).toString('hex'),
      proposerLane: PROPOSER,
      repository: REPO,
      baseCommit: randomBytes(20).toString('hex'),
      targetBranch: 'main',
      artifact: { digest: artifactDigest, size: 120, mediaType: 'text/x-patch' },
      changedPaths: [{ path: `src/file-${i}.ts`, status: 'modified', digest: `sha256:${randomBytes(32).toString('hex')}`, added: 3, removed: 1, binary: false, mode: '100644' }],
      title: `bench handoff ${i}`,
      summary: 'benchmark proposal',
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + 3600_000).toISOString(),
    };
    const statement = attest.makeStatement([{ name: `handoff-${id}.patch`, digest: { sha256: artifactDigest.slice(7) } }], handoff.HANDOFF_PREDICATE_TYPE, predicate);
    const bundle = await attest.attestStatement(statement, { kind: 'key-object', privateKey });
    const text = JSON.stringify(bundle);
    out.push({ id, predicate, text, statementDigest: handoff.statementDigestOf(bundle) });
  }
  return out;
}

// ---- one handoff, split into the propose side and the execute side ----
const phases = () => ({ propose: 0, take: 0, verify: 0, consumeVerified: 0, applied: 0, prOpened: 0 });
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function proposeOne(ledger, p, t) {
  const s = now();
  await ledger.withLane(
    PROPOSER,
    (tx) =>
      tx.insertHandoff({
        id: p.id,
        statementDigest: p.statementDigest,
        artifactDigest: p.predicate.artifact.digest,
        bundlePath: `.duallane/store/sha256/${p.statementDigest.slice(7)}`,
        artifactPath: `.duallane/store/sha256/${p.predicate.artifact.digest.slice(7)}`,
        baseCommit: p.predicate.baseCommit,
        targetBranch: p.predicate.targetBranch,
        expiresAt: p.predicate.expiresAt,
        title: p.predicate.title,
        nonce: p.predicate.nonce,
        meta: { summary: p.predicate.summary, changedPaths: p.predicate.changedPaths.length },
      }),
    { autocommit: true },
  );
  t.propose += now() - s;
}

/** What accept.ts's verifyProposal does without git and the store: signature, predicate, binding, expiry. */
async function verifyOne(p, h) {
  const v = await attest.verifyBundle(JSON.parse(p.text), { digest: h.artifactDigest, trust, predicateType: handoff.HANDOFF_PREDICATE_TYPE, lane: EXECUTOR });
  const parsed = handoff.parseHandoffPredicate(v.statement.predicate);
  if (!parsed.ok) throw new Error(`predicate invalid: ${JSON.stringify(parsed.problems)}`);
  const pr = parsed.predicate;
  const binding = [
    [pr.handoffId, h.id],
    [handoff.statementDigestOf(JSON.parse(p.text)), h.statementDigest],
    [pr.artifact.digest, h.artifactDigest],
    [pr.nonce, h.nonce],
    [pr.baseCommit, h.baseCommit],
    [pr.targetBranch, h.targetBranch],
    [pr.proposerLane, h.proposerLane],
  ];
  if (binding.some(([a, b]) => a !== b)) throw new Error(`ledger binding mismatch for ${h.id}`);
  if (Date.parse(pr.expiresAt) <= Date.now()) throw new Error('expired');
  return pr;
}

let prNumber = 0;
/** Takes, verifies and accepts one pending handoff; false when none was pending. */
async function acceptOne(ledger, byId, t) {
  let s = now();
  const h = await ledger.withLane(EXECUTOR, async (tx) => {
    const locked = await tx.lockProposed({ next: true });
    t.take += now() - s;
    if (!locked) return null;
    const v0 = now();
    const pr = await verifyOne(byId.get(locked.id), locked);
    t.verify += now() - v0;
    const c0 = now();
    const out = await tx.consumeAndTransition(locked.id, { statementDigest: locked.statementDigest, nonce: pr.nonce }, 'proposed', 'verified', { meta: { verifiedAt: new Date().toISOString() }, audit: { checks: 11 } });
    t.consumeVerified += now() - c0;
    return out;
  });
  if (!h) return false;
  s = now();
  const branch = `lane/${EXECUTOR}/${h.id}`;
  const commit = randomBytes(20).toString('hex');
  await ledger.withLane(EXECUTOR, (tx) => tx.transitionHandoff(h.id, 'verified', 'applied', { branch, commit, audit: { tree: randomBytes(20).toString('hex') } }), { autocommit: true });
  t.applied += now() - s;
  s = now();
  const number = ++prNumber;
  const url = `https://forge.invalid/pulls/${number}`;
  const labels = handoff.PR_LABELS(PROPOSER);
  await ledger.withLane(
    EXECUTOR,
    (tx) => tx.openPullRequest({ handoffId: h.id, forge: 'local', number, url, branch, headSha: commit, state: 'open', labels }, 'applied', { meta: { labels }, audit: { appliedBundleDigest: `sha256:${'0'.repeat(64)}` } }),
    { autocommit: true },
  );
  t.prOpened += now() - s;
  return true;
}

/** Runs proposers and executors until every proposal is pr_opened or the time is up. */
async function drive({ propose, accept, proposals, workers }) {
  const byId = new Map(proposals.map((p) => [p.id, p]));
  const t = phases();
  const deadline = now() + MAX_SECS * 1000;
  let next = 0;
  let proposed = 0;
  let done = 0;
  const start = now();
  if (workers === 1) {
    // Sequential: propose one, accept one (what a single embedded process does).
    while (next < proposals.length && now() < deadline) {
      await propose(proposals[next++], t);
      proposed++;
      if (!(await accept(byId, t))) throw new Error('a proposed handoff was not pending');
      done++;
    }
  } else {
    const proposer = async () => {
      while (next < proposals.length && now() < deadline) {
        await propose(proposals[next++], t);
        proposed++;
      }
    };
    let proposing = WORKERS;
    const executor = async () => {
      while (now() < deadline && done < proposals.length) {
        if (await accept(byId, t)) done++;
        else if (proposing === 0 && done + 0 >= proposed) break;
        else await new Promise((r) => setTimeout(r, 1));
      }
    };
    await Promise.all([
      ...Array.from({ length: workers }, () => proposer().finally(() => proposing--)),
      ...Array.from({ length: EXECUTORS }, executor),
    ]);
  }
  const secs = (now() - start) / 1000;
  return { done, proposed, secs, rate: done / secs, t };
}

function phaseSummary(r) {
  const per = (ms) => (ms / Math.max(1, r.done)).toFixed(2);
  const tot = Object.values(r.t).reduce((a, b) => a + b, 0);
  return `per handoff (ms, summed over workers): ${Object.entries(r.t).map(([k, v]) => `${k} ${per(v)}`).join(', ')}; total ${per(tot)}`;
}

async function countAudit(ledger) {
  return ledger.withAdmin(async (tx) => {
    const a = await tx.sql.query("SELECT count(*)::int AS n FROM audit_log");
    const s = await tx.sql.query("SELECT state, count(*)::int AS n FROM handoffs GROUP BY state ORDER BY state");
    return { audit: a.rows[0].n, states: Object.fromEntries(s.rows.map((x) => [x.state, x.n])) };
  });
}

// ---- PostgreSQL ----
async function pgAvailable() {
  const c = new pg.Client({ connectionString: pgUrl('postgres', 'postgres'), connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return null;
  } catch (e) {
    return `PostgreSQL not reachable at ${host}:${port} (${e.message})`;
  } finally {
    await c.end().catch(() => {});
  }
}

async function rootQuery(sql) {
  const c = new pg.Client({ connectionString: pgUrl('postgres', 'postgres') });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** pgbench on its own fresh database: init once, then run() per round; drop() at the end. */
async function pgbenchAnchor() {
  try {
    await run('pgbench', ['--version']);
  } catch {
    return { skipped: 'pgbench not on PATH (Debian postgresql-client)' };
  }
  const db = `dl_pgbench_${process.pid}`;
  const args = ['-h', host, '-p', String(port), '-U', 'postgres'];
  await rootQuery(`CREATE DATABASE ${db}`);
  const drop = () => rootQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch((e) => log(`cleanup: ${e.message}`));
  try {
    await run('pgbench', [...args, '-i', '-s', '1', '-q', db], { timeout: 120_000 });
  } catch (e) {
    await drop();
    throw e;
  }
  return {
    drop,
    async run() {
      const { stdout } = await run('pgbench', [...args, '-c', '4', '-j', '2', '-T', String(PGBENCH_SECS), '-n', db], { timeout: (PGBENCH_SECS + 60) * 1000 });
      const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
      if (!m) throw new Error(`cannot find tps in pgbench output:\n${stdout}`);
      return Number(m[1]);
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Opens all `n` connections of a ledger's pool (n concurrent transactions, each held until all have started). */
async function connectAll(ledger, lane, n) {
  let started = 0;
  let release;
  const all = new Promise((r) => (release = r));
  await Promise.all(
    Array.from({ length: n }, () =>
      ledger.withLane(lane, async (tx) => {
        await tx.sql.query('SELECT 1', []);
        if (++started === n) release();
        await all;
      }),
    ),
  );
}

async function benchPostgres(proposals) {
  const db = `dl_bench_${process.pid}`;
  const suffix = `_b${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'duallane-bench-'));
  const config = defaultConfig(dir);
  for (const lane of config.lanes) lane.db.role = `duallane_${lane.name}${suffix}`;
  const roleOf = (name) => config.lanes.find((l) => l.name === name).db.role;
  const opened = [];
  await rootQuery(`CREATE DATABASE ${db}`);
  try {
    const admin = await Ledger.open({ kind: 'server', url: pgUrl('postgres', db) }, { lanes: config.lanes, poolSize: 2 });
    opened.push(admin);
    await admin.migrate();
    await admin.applyRoles(config);
    const proposer = await Ledger.open({ kind: 'server', url: pgUrl(roleOf(PROPOSER), db) }, { lanes: config.lanes, poolSize: WORKERS });
    opened.push(proposer);
    const executor = await Ledger.open({ kind: 'server', url: pgUrl(roleOf(EXECUTOR), db) }, { lanes: config.lanes, poolSize: EXECUTORS });
    opened.push(executor);
    // Every pool connection open before the clock starts, as pgbench reports tps "without initial
    // connection time": each Ledger runs as many concurrent trivial transactions as its pool holds.
    await connectAll(proposer, PROPOSER, WORKERS);
    await connectAll(executor, EXECUTOR, EXECUTORS);
    const r = await drive({
      propose: (p, t) => proposeOne(proposer, p, t),
      accept: (byId, t) => acceptOne(executor, byId, t),
      proposals,
      workers: WORKERS,
    });
    const check = await countAudit(admin);
    const audit = await admin.verifyAudit();
    return { ...r, check, auditOk: audit.ok };
  } finally {
    for (const l of opened.reverse()) await l.close().catch(() => {});
    await rootQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch((e) => log(`cleanup: ${e.message}`));
    for (const lane of config.lanes) await rootQuery(`DROP ROLE IF EXISTS ${lane.db.role}`).catch((e) => log(`cleanup: ${e.message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- PGlite ----
async function benchPglite(proposals) {
  const dir = await mkdtemp(join(tmpdir(), 'duallane-bench-'));
  let ledger;
  try {
    const config = defaultConfig(dir);
    const s = now();
    ledger = await Ledger.open({ kind: 'embedded', path: join(dir, '.duallane/ledger') }, { lanes: config.lanes });
    const openMs = now() - s;
    await ledger.migrate();
    await ledger.applyRoles(config);
    const prepMs = now() - s - openMs;
    const r = await drive({
      propose: (p, t) => proposeOne(ledger, p, t),
      accept: (byId, t) => acceptOne(ledger, byId, t),
      proposals,
      workers: 1,
    });
    const check = await countAudit(ledger);
    const audit = await ledger.verifyAudit();
    return { ...r, check, auditOk: audit.ok, openMs, prepMs };
  } finally {
    await ledger?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

function verdict(r, n) {
  // Every handoff that finished is pr_opened; the audit chain holds 5 rows each and verifies.
  const finished = r.check.states.pr_opened ?? 0;
  const ok = finished === r.done && r.check.audit >= AUDIT_ROWS * r.done && r.auditOk;
  return { ok, note: `${r.done}/${n} handoffs in ${r.secs.toFixed(1)} s; states ${JSON.stringify(r.check.states)}; ${r.check.audit} audit rows, chain ${r.auditOk ? 'verifies' : 'BROKEN'}` };
}

/** A run that threw is a failed row (cleanup already ran in the bench's finally). */
function failed(bench, e) {
  log(`${bench}: ${e?.stack ?? e}`);
  results.push({ bench, anchor: '-', rate: 'failed', extra: String(e?.message ?? e).slice(0, 300), pass: false });
  return null;
}

// ---- run ----
// PostgreSQL: ROUNDS alternating rounds of pgbench and the handoff run (each on a fresh database), so
// both sides see the same server state and disk; the ratio is median handoffs/s over median tps.
const signStart = now();
const pgRounds = [];
for (let i = 0; i < ROUNDS; i++) pgRounds.push(await makeProposals(PG_N));
const liteProposals = await makeProposals(LITE_N);
log(`signed ${ROUNDS * PG_N + LITE_N} proposals in ${((now() - signStart) / 1000).toFixed(1)} s (not timed)`);

let anchorTps = null;
const PG_BENCH = `handoffs/s through the ledger (PostgreSQL, ${WORKERS} proposers + ${EXECUTORS} executors)`;
// BENCH_HANDOFF_ONLY=pglite skips PostgreSQL (for diagnosis of the embedded path).
const unavailable = process.env.BENCH_HANDOFF_ONLY === 'pglite' ? 'skipped: BENCH_HANDOFF_ONLY=pglite' : await pgAvailable();
const anchor = unavailable ? { skipped: unavailable } : await pgbenchAnchor();
if (anchor.skipped) {
  results.push({ bench: 'handoffs/s through the ledger (PostgreSQL)', skipped: anchor.skipped });
} else {
  const tps = [];
  const runs = [];
  try {
    // One short handoff run first, not counted: the rounds measure a warmed-up process (compiled
    // JavaScript, loaded modules), as pgbench, a C program, is from its first transaction.
    const warm = await benchPostgres(await makeProposals(WARMUP_N));
    log(`warm-up (not counted): postgres ${warm.rate.toFixed(1)} handoffs/s over ${warm.done} handoffs`);
    for (let i = 0; i < ROUNDS; i++) {
      tps.push(await anchor.run());
      log(`round ${i + 1}: pgbench TPC-B ${tps.at(-1).toFixed(0)} tps`);
      const r = await benchPostgres(pgRounds[i]);
      runs.push(r);
      log(`round ${i + 1}: postgres ${r.rate.toFixed(1)} handoffs/s; ${phaseSummary(r)}`);
    }
  } catch (e) {
    failed(PG_BENCH, e);
  } finally {
    await anchor.drop();
  }
  if (runs.length === ROUNDS) {
    anchorTps = median(tps);
    const rate = median(runs.map((r) => r.rate));
    const mid = runs.find((r) => r.rate === rate);
    const checks = runs.map((r) => verdict(r, PG_N));
    const ratio = rate / anchorTps;
    results.push({
      bench: PG_BENCH,
      anchor: `pgbench TPC-B -c 4 -j 2, same server, median of ${ROUNDS} rounds alternating with the handoff runs`,
      anchorRate: `${anchorTps.toFixed(0)} tps`,
      rate: `${rate.toFixed(1)} handoffs/s`,
      ratio,
      goal: 0.25,
      extra: `median of ${ROUNDS} rounds after an uncounted warm-up run of ${WARMUP_N} (handoffs/s ${runs.map((r) => r.rate.toFixed(0)).join(' / ')}; tps ${tps.map((t) => t.toFixed(0)).join(' / ')}); median round: ${checks[runs.indexOf(mid)].note}; 4 transactions (3 single-statement autocommits + 1 of BEGIN+lock, consume+transition, COMMIT), 6 round trips, 4 audit rows (chained after commit by the ledger's sealer) + 1 verifyBundle per handoff; ${phaseSummary(mid)}`,
      pass: ratio >= 0.25 && checks.every((c) => c.ok),
    });
  }
}

const r = await benchPglite(liteProposals).catch((e) => failed('handoffs/s through the ledger (PGlite)', e));
if (r) {
const v = verdict(r, LITE_N);
log(`pglite: ${r.rate.toFixed(1)} handoffs/s; ${phaseSummary(r)}`);
results.push({
  bench: 'handoffs/s through the ledger (PGlite, sequential)',
  anchor: 'absolute goal',
  anchorRate: '100 handoffs/s',
  rate: `${r.rate.toFixed(1)} handoffs/s`,
  ratio: r.rate / 100,
  goal: 1,
  extra: `goal is absolute (>= 100/s), ratio is rate/100${anchorTps ? ` (${((r.rate / anchorTps) * 100).toFixed(1)}% of pgbench tps)` : ''}; ${v.note}; open ${r.openMs.toFixed(0)} ms + migrate/roles ${r.prepMs.toFixed(0)} ms (not timed); ${phaseSummary(r)}`,
  pass: r.rate >= 100 && v.ok,
});
}

console.log(JSON.stringify(results));
