#!/usr/bin/env node
// Conformance sweep: runs `duallane policy test DIR --json` on every sample folder (a folder holding a
// kyverno-test.yaml, directly or in .kyverno-test/) under a local copy of Kyverno's sample policies, and
// prints one line per folder (rows passed / failed) followed by every failing row.
//
//   node scripts/kyverno-samples.mjs [DIR] [--json]        (DIR defaults to $DUALLANE_KYVERNO_POLICIES)
//
// Exit status: 0 when every row of every folder passed, 1 when some failed, 2 on bad usage.
// Needs a built CLI (npm run build). The samples are not part of this repository.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'duallane');
const SKIP_DIRS = new Set(['node_modules', '.git', '.chainsaw-test', '.github']);

/** Sample folders: directories with kyverno-test.yaml in themselves or in a .kyverno-test child. */
export function findSampleFolders(root) {
  const out = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (names.has('kyverno-test.yaml') || existsSync(join(dir, '.kyverno-test', 'kyverno-test.yaml'))) {
      out.push(dir);
      return;
    }
    for (const e of entries) if (e.isDirectory() && !SKIP_DIRS.has(e.name) && e.name !== '.kyverno-test') walk(join(dir, e.name));
  };
  walk(root);
  return out.sort();
}

/** Runs one folder; returns { folder, pass, fail, error, failures[] }. */
export function runSample(root, dir) {
  const folder = relative(root, dir) || '.';
  const r = spawnSync(process.execPath, [BIN, 'policy', 'test', dir, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let j;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    const msg = (r.stderr || r.stdout || '').trim().split('\n')[0] ?? '';
    return { folder, pass: 0, fail: 0, error: `exit ${r.status}: ${msg}`, failures: [] };
  }
  const failures = [];
  let pass = 0;
  let fail = 0;
  for (const t of j.tests ?? []) {
    for (const row of t.rows ?? []) {
      if (row.outcome === 'fail') {
        fail++;
        failures.push({ policy: row.policy, rule: row.rule, resource: row.resource, expected: row.expected, actual: row.actual, reason: row.reason, message: row.message });
      } else pass++;
    }
  }
  return { folder, pass, fail, error: null, failures };
}

function main(argv) {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const root = args[0] ?? process.env['DUALLANE_KYVERNO_POLICIES'];
  if (!root || !existsSync(root) || !statSync(root).isDirectory()) {
    process.stderr.write('usage: node scripts/kyverno-samples.mjs DIR [--json]  (or set DUALLANE_KYVERNO_POLICIES)\n');
    return 2;
  }
  const results = findSampleFolders(root).map((d) => runSample(root, d));
  const total = { folders: results.length, foldersPassed: 0, pass: 0, fail: 0, errors: 0 };
  for (const r of results) {
    total.pass += r.pass;
    total.fail += r.fail;
    if (r.error) total.errors++;
    else if (r.fail === 0) total.foldersPassed++;
  }
  if (json) {
    process.stdout.write(JSON.stringify({ root, total, results }, null, 2) + '\n');
  } else {
    const w = Math.max(6, ...results.map((r) => r.folder.length));
    process.stdout.write(`${'FOLDER'.padEnd(w)}  PASS  FAIL  NOTE\n`);
    for (const r of results) process.stdout.write(`${r.folder.padEnd(w)}  ${String(r.pass).padStart(4)}  ${String(r.fail).padStart(4)}  ${r.error ?? ''}\n`);
    const failing = results.filter((r) => r.failures.length > 0);
    if (failing.length > 0) {
      process.stdout.write('\nFailing rows (folder: policy/rule resource expected -> actual: reason | message)\n');
      for (const r of failing) {
        for (const f of r.failures) process.stdout.write(`${r.folder}: ${f.policy}/${f.rule} ${f.resource} ${f.expected} -> ${f.actual}: ${f.reason}${f.message ? ` | ${String(f.message).split('\n')[0].slice(0, 160)}` : ''}\n`);
      }
    }
    process.stdout.write(
      `\n${total.foldersPassed}/${total.folders} folders pass; ${total.pass}/${total.pass + total.fail} rows pass; ${total.errors} folders could not be run\n`,
    );
  }
  return total.fail === 0 && total.errors === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
