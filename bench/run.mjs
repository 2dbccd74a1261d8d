#!/usr/bin/env node
// `npm run bench`: runs every benchmark suite present and prints each result as a ratio against the
// anchor it measured in the same run. Results and the command go in docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const suites = ['attest.mjs', 'policy-test.mjs', 'admission.mjs', 'handoff.mjs'];
const only = process.argv.slice(2);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
let failed = 0;
for (const s of suites) {
  if (only.length && !only.some((o) => s.startsWith(o))) continue;
  if (!existsSync(here + s)) continue;
  console.log(`\n== ${s}`);
  const r = spawnSync(process.execPath, [here + s], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let rows;
  try {
    rows = JSON.parse(last);
  } catch {
    process.stdout.write(r.stdout ?? '');
    console.log(`(${s} printed no JSON result line; exit ${r.status})`);
    failed++;
    continue;
  }
  for (const row of Array.isArray(rows) ? rows : [rows]) {
    if (row.skipped) {
      console.log(`  ${row.bench}: skipped (${row.skipped})`);
      continue;
    }
    const ratio = typeof row.ratio === 'number' ? `${(row.ratio * 100).toFixed(0)}% of anchor` : '';
    const goal = typeof row.goal === 'number' ? ` (goal >= ${(row.goal * 100).toFixed(0)}%)` : '';
    console.log(`  ${row.pass === false ? 'MISS' : 'ok  '} ${row.bench}: ${row.rate ?? ''} vs ${row.anchor} ${row.anchorRate ?? ''} = ${ratio}${goal}${row.extra ? `; ${row.extra}` : ''}`);
    if (row.pass === false) failed++;
  }
}
process.exitCode = failed ? 1 : 0;
