#!/usr/bin/env node
/* global performance, fetch, AbortSignal */
// Admission webhook benchmarks (a ratio against an anchor measured in the same run, on loopback):
//   warm latency: p50/p99 of AdmissionReviews at a fixed 500 req/s (open loop, HTTPS, keep-alive) with
//                 a warm digest cache, vs a bare node:https server answering a canned review (goal p99 < 5 ms);
//                 load from wrk (Debian `wrk`, paced by bench/admission-wrk.lua) in its own process, or
//                 from a Node client in this process when wrk is absent (said so in the result)
//   throughput:   closed loop, 16 in flight, vs the same bare server
//   cold:         one review per never-seen image (signature + provenance fetched and verified from
//                 Debian's docker-registry), vs one manifest GET from the same registry
// The webhook runs in a child process so the load generator does not share its event loop.
// Bounded: every loop stops after a fixed count and a fixed time. Skips without docker-registry/openssl.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => import(join(root, 'dist', p));
const quick = process.env.BENCH_QUICK === '1';
const BUILDER = 'https://builder.duallane.bench/trusted@v1';
// One wrk thread (the other core is the server's), 16 keep-alive connections sharing the paced send slots.
const WRK_ARGS = ['-t1', '-c16', '--timeout', '10s', '--latency'];

function policies(pubPem) {
  const attestor = { entries: [{ keys: { publicKeys: pubPem, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } }] };
  const pods = { any: [{ resources: { kinds: ['Pod'] } }] };
  const iv = { imageReferences: ['*'], failureAction: 'Enforce', mutateDigest: false, verifyDigest: true };
  return [
    { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'require-signed-images' }, spec: { rules: [{ name: 'verify-signature', match: pods, verifyImages: [{ ...iv, attestors: [attestor] }] }] } },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-slsa-provenance' },
      spec: {
        rules: [
          {
            name: 'check-provenance',
            match: pods,
            verifyImages: [{ ...iv, attestations: [{ type: 'https://slsa.dev/provenance/v1', attestors: [attestor], conditions: [{ all: [{ key: '{{ runDetails.builder.id }}', operator: 'Equals', value: BUILDER }] }] }] }],
          },
        ],
      },
    },
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'require-image-digest' },
      spec: { rules: [{ name: 'require-digest', match: pods, validate: { failureAction: 'Enforce', message: 'pin by digest', pattern: { spec: { containers: [{ image: '*@sha256:*' }] } } } }] },
    },
  ];
}

function review(uid, image) {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'bench' },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image }] } },
    },
  });
}

// ---------------------------------------------------------------- child: the servers
if (process.argv[2] === '--serve') {
  const cfg = JSON.parse(process.env.BENCH_CFG);
  const tls = { cert: readFileSync(cfg.cert), key: readFileSync(cfg.key) };
  if (cfg.kind === 'anchor') {
    const canned = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'x', allowed: true } });
    const srv = https.createServer(tls, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(canned);
      });
    });
    srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
  } else {
    const { buildAdmissionApp, RegistryImageVerifier } = await dist('admission/index.js');
    const { CachingRegistryClient } = await dist('registry/index.js');
    const client = new CachingRegistryClient({ insecureRegistries: [cfg.registry], timeoutMs: 3000 });
    const imageVerifier = new RegistryImageVerifier({ client });
    const app = buildAdmissionApp({ policies: policies(cfg.pubPem), imageVerifier, https: tls });
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.send({ port: app.server.address().port });
  }
  process.on('SIGTERM', () => process.exit(0)); // a clean exit, so --cpu-prof (BENCH_PROF_DIR) writes its profile
  // GC pauses since the last 'gc' message: the usual source of a Node server's latency tail.
  let gc = { count: 0, ms: 0, max: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m) => {
    if (m === 'stop') process.exit(0);
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m === 'gc') {
      process.send({ gc });
      gc = { count: 0, ms: 0, max: 0 };
    }
  });
} else {
  await main();
}

// ---------------------------------------------------------------- parent: setup, load, report
async function main() {
  const results = [];
  const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!have('docker-registry') || !have('openssl')) {
    console.log(JSON.stringify([{ bench: 'admission', skipped: 'needs docker-registry and openssl (Debian packages)' }]));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'duallane-bench-admission-'));
  const children = [];
  let registry;
  try {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const ca = readFileSync(cert, 'utf8');
    registry = await startRegistry(dir);
    const { RegistryClient, pushArtifact, MEDIA_TYPES } = await dist('registry/index.js');
    const { signOciSubject, attestOciSubject } = await dist('policy/bundle-cosign.js');
    const client = new RegistryClient({ insecureRegistries: [registry.host], timeoutMs: 5000 });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pubPem = k.publicKey.export({ type: 'spki', format: 'pem' });
    const signer = { kind: 'key-object', privateKey: k.privateKey };
    const coldCount = quick ? 5 : 20;
    const images = [];
    for (let i = 0; i < coldCount + 1; i++) {
      const layer = gzipSync(Buffer.from(`layer ${i} ${Date.now()}`));
      const cfgBlob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(layer).digest('hex')}`] } }));
      const repo = `bench/app${i}`;
      const p = await pushArtifact(client, registry.host, repo, 'v1', { config: { mediaType: MEDIA_TYPES.ociConfig, data: cfgBlob }, layers: [{ mediaType: MEDIA_TYPES.ociLayerTarGzip, data: layer }] });
      const subject = { registry: registry.host, repository: repo, digest: p.digest, mediaType: p.mediaType, size: p.size };
      await signOciSubject(client, subject, signer);
      await attestOciSubject(client, subject, 'https://slsa.dev/provenance/v1', { buildDefinition: { buildType: 'x', externalParameters: {} }, runDetails: { builder: { id: BUILDER } } }, signer);
      images.push({ ref: `${registry.host}/${repo}@${p.digest}`, repo, digest: p.digest });
    }

    const start = async (kind) => {
      // Diagnostics, both servers alike: BENCH_PROF_DIR=dir writes CPU profiles (open in Chrome DevTools);
      // BENCH_SERVER_NODE_ARGS='--flag ...' passes V8/Node flags (e.g. GC settings) to compare.
      const execArgv = [
        ...(process.env.BENCH_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF_DIR, '--cpu-prof-name', `${kind}.cpuprofile`] : []),
        ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ];
      const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv, env: { ...process.env, BENCH_CFG: JSON.stringify({ kind, cert, key, registry: registry.host, pubPem }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const { port } = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (c) => reject(new Error(`${kind} server exited ${c}`)));
      });
      return { child, url: `https://127.0.0.1:${port}/validate` };
    };
    const webhook = await start('webhook');
    const anchor = await start('anchor');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca });
    const post = (url, body) =>
      new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
          let out = '';
          res.on('data', (d) => (out += d));
          res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode, body: out }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.end(body);
      });

    // ---- cold: each image seen for the first time by the webhook
    const cold = [];
    for (const img of images.slice(1)) {
      const r = await post(webhook.url, review('cold', img.ref));
      if (!JSON.parse(r.body).response.allowed) throw new Error(`cold review denied: ${r.body}`);
      cold.push(r.ms);
    }
    const manifestGets = [];
    for (const img of images.slice(1)) {
      const t0 = process.hrtime.bigint();
      await client.getManifest(registry.host, img.repo, img.digest);
      manifestGets.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const coldMed = median(cold);
    const getMed = median(manifestGets);
    results.push({ bench: `admission cold review per image (${cold.length} images)`, anchor: 'one manifest GET', anchorRate: `${getMed.toFixed(2)} ms`, rate: `${coldMed.toFixed(1)} ms median, ${Math.max(...cold).toFixed(1)} ms max`, ratio: getMed / coldMed, extra: 'signature (.sig + v3 referrer) and SLSA attestation fetched and verified' });

    // ---- warm: the same allowed image at a fixed rate (open loop)
    const warmBody = review('warm', images[0].ref);
    for (let i = 0; i < 200; i++) await post(webhook.url, warmBody); // warms cache, JIT, sockets
    for (let i = 0; i < 200; i++) await post(anchor.url, warmBody);
    const seconds = quick ? 2 : 4;
    const rounds = quick ? 1 : 3;
    const rate = 500;
    const loadBefore = loadavg()[0];
    let w;
    let a;
    let generator;
    if (process.env.BENCH_NO_WRK !== '1' && have('wrk')) {
      // A separate-process load generator (C, epoll): it does not share the server's event loop and
      // costs a fraction of the CPU a Node client needs, so the tail it reports is the server's.
      const bodyFile = join(dir, 'warm-review.json');
      writeFileSync(bodyFile, warmBody);
      const run = (url, secs) => runWrk(url, bodyFile, rate, secs);
      run(webhook.url, 2); // warm-up through wrk's own connections, not counted
      run(anchor.url, 2);
      // Rounds alternate webhook and anchor, so a burst of other work on the shared machine hits
      // both sides alike; each side reports its median round (by p99) and the range of its p99s.
      const ws = [];
      const as = [];
      for (let r = 0; r < rounds; r++) {
        for (const [server, out] of [[webhook, ws], [anchor, as]]) {
          await gcOf(server.child);
          const m = run(server.url, seconds);
          m.gc = await gcOf(server.child);
          out.push(m);
        }
      }
      w = medianRound(ws);
      a = medianRound(as);
      generator = `wrk ${WRK_ARGS.join(' ')} -d${seconds}s -s bench/admission-wrk.lua (separate process), ${rounds} alternating rounds per side`;
    } else {
      w = await openLoop(post, webhook.url, warmBody, rate, seconds);
      a = await openLoop(post, anchor.url, warmBody, rate, seconds);
      generator = `Node client in the parent process (${have('wrk') ? 'BENCH_NO_WRK=1' : 'wrk not found: apt-get install wrk'}); its own tail is included`;
    }
    const gcText = (g) => `${g.count} GC pauses, ${g.ms.toFixed(0)} ms in all, longest ${g.max.toFixed(1)} ms`;
    const rateOk = Math.abs(w.achieved - rate) / rate <= 0.03 && Math.abs(a.achieved - rate) / rate <= 0.03;
    const fmt = (r) => `p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms${r.p999 !== undefined ? ` p99.9 ${r.p999.toFixed(2)} ms` : ''}${r.p99s?.length > 1 ? ` (p99 of the ${r.p99s.length} rounds: ${r.p99s.map((x) => x.toFixed(1)).join(', ')} ms)` : ''}`;
    results.push({
      bench: `admission warm latency @${rate} req/s, ${w.p99s?.length > 1 ? `${w.p99s.length} x ${seconds}s` : `${seconds}s`}`,
      anchor: 'bare node:https canned review',
      anchorRate: `${fmt(a)} (${a.achieved.toFixed(0)} req/s)`,
      rate: `${fmt(w)} (${w.achieved.toFixed(0)} req/s achieved, ${w.errors} errors)`,
      ratio: a.p99 / w.p99,
      extra: `load generator: ${generator}; ${w.gc ? `during the run the webhook had ${gcText(w.gc)}, the anchor ${gcText(a.gc)}; ` : ''}goal p99 < 5 ms: ${w.p99 < 5 ? 'met' : 'missed'}${rateOk ? '' : '; achieved rate is off the offered 500/s by more than 3%'}; machine load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after (2 cores shared)`,
      pass: w.p99 < 5 && w.errors === 0 && rateOk,
    });

    // ---- server CPU per review: less sensitive to other jobs on the machine than wall-clock latency
    const cpuOf = (child) =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
        child.send('cpu');
      });
    const n = quick ? 500 : 2000;
    const cpuPer = async (server) => {
      const before = await cpuOf(server.child);
      for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: 8 }, () => post(server.url, warmBody)));
      return ((await cpuOf(server.child)) - before) / n;
    };
    const cw = await cpuPer(webhook);
    const cpuAnchor = await cpuPer(anchor);
    results.push({
      bench: `admission server CPU per warm review (${n} reviews)`,
      anchor: 'bare node:https canned review',
      anchorRate: `${cpuAnchor.toFixed(0)} us`,
      rate: `${cw.toFixed(0)} us`,
      ratio: cpuAnchor / cw,
      extra: `500 req/s needs ${((cw * 500) / 1e4).toFixed(0)}% of one core`,
    });

    // ---- throughput: closed loop
    const tw = await closedLoop(post, webhook.url, warmBody, 16, quick ? 1.5 : 4);
    const ta = await closedLoop(post, anchor.url, warmBody, 16, quick ? 1.5 : 4);
    results.push({ bench: 'admission throughput (16 in flight, warm cache)', anchor: 'bare node:https canned review', anchorRate: `${ta.toFixed(0)} req/s`, rate: `${tw.toFixed(0)} req/s`, ratio: tw / ta });
    agent.destroy();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results));
}

/** The round with the median p99, carrying every round's p99, the summed GC pauses and the worst error count. */
function medianRound(rs) {
  const m = [...rs].sort((x, y) => x.p99 - y.p99)[Math.floor(rs.length / 2)];
  const gc = { count: 0, ms: 0, max: 0 };
  for (const r of rs) {
    gc.count += r.gc.count;
    gc.ms += r.gc.ms;
    gc.max = Math.max(gc.max, r.gc.max);
  }
  return { ...m, p99s: rs.map((r) => r.p99), gc, errors: rs.reduce((n, r) => n + r.errors, 0), achieved: Math.min(...rs.map((r) => r.achieved)) };
}

/** The child's GC pauses since the previous call (see the 'gc' message in the serve branch). */
function gcOf(child) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (!m.gc) return;
      child.off('message', on);
      resolve(m.gc);
    };
    child.on('message', on);
    child.send('gc');
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** Sends at a fixed rate regardless of replies; latency is send-to-reply; bounded by count and time. */
async function openLoop(post, url, body, rate, seconds) {
  const total = rate * seconds;
  const lat = [];
  let errors = 0;
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      post(url, body).then(
        (r) => (r.status === 200 ? lat.push(r.ms) : errors++),
        () => errors++,
      ),
    );
    if (performance.now() - t0 > seconds * 1000 + 5000) break;
  }
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 15_000))]);
  const elapsed = (performance.now() - t0) / 1000;
  return { p50: pct(lat, 50), p99: pct(lat, 99), achieved: lat.length / elapsed, errors };
}

/**
 * One wrk run at a fixed offered rate (paced by the Lua script's delay(); keep-alive HTTPS).
 * Bounded: wrk stops itself after `seconds`, and is killed 30 s later if it has not.
 * Every answer that is not an allowed AdmissionReview counts as an error.
 */
function runWrk(url, bodyFile, rate, seconds) {
  const script = fileURLToPath(new URL('admission-wrk.lua', import.meta.url));
  const r = spawnSync('wrk', [...WRK_ARGS, `-d${seconds}s`, '-s', script, url], {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
    killSignal: 'SIGKILL',
    env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_RATE: String(rate), BENCH_THREADS: '1' },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (r.status !== 0 || !line) throw new Error(`wrk failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().slice(0, 400)}`);
  const j = JSON.parse(line.slice('WRK_RESULT '.length));
  const errors = Object.values(j.errors).reduce((x, y) => x + y, 0) + j.not_allowed;
  return { p50: j.p50, p99: j.p99, p999: j.p999, max: j.max, achieved: j.achieved, errors };
}

async function closedLoop(post, url, body, concurrency, seconds) {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await post(url, body);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - t0) / 1000);
}

async function startRegistry(dir) {
  const port = await new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const cfg = join(dir, 'registry.yml');
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('docker-registry did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
