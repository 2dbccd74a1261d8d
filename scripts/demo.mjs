#!/usr/bin/env node
// The main job, on embedded defaults (no server, no network): lane keys, a signed and attested
// artifact, verification, and a tampered copy refused. Every step runs the real CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/duallane', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'duallane-demo-'));
const rows = [];

function cli(args, { expectExit = 0 } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  process.stdout.write(`$ duallane ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  if (r.status !== expectExit) {
    process.stderr.write(`demo: expected exit ${expectExit}, got ${r.status}\n`);
    process.exit(1);
  }
  return r;
}

execFileSync('git', ['init', '-q', '-b', 'main', dir]);
writeFileSync(join(dir, 'app.js'), 'console.log("hello from the propose lane");\n');
execFileSync('git', ['-C', dir, 'add', '.']);
execFileSync('git', ['-C', dir, '-c', 'user.name=demo', '-c', 'user.email=demo@duallane.invalid', 'commit', '-qm', 'sample']);

cli(['keys', 'generate', '--lane', 'codex']);
cli(['keys', 'generate', '--lane', 'claude']);
rows.push(['lane keys', '.duallane/keys/{codex,claude}.{key,pub}']);

cli(['digest', 'app.js']);
cli(['sign', 'app.js', '--key', '.duallane/keys/codex.key', '--bundle', 'app.js.sigstore.json']);
rows.push(['message signature', 'app.js.sigstore.json']);
cli(['attest', 'app.js', '--key', '.duallane/keys/codex.key', '--predicate-type', 'slsa', '--bundle', 'app.js.provenance.json']);
rows.push(['SLSA v1 provenance (DSSE)', 'app.js.provenance.json']);

cli(['verify', 'app.js', '--bundle', 'app.js.sigstore.json', '--key', '.duallane/keys/codex.pub']);
cli(['verify', 'app.js', '--bundle', 'app.js.provenance.json', '--key', '.duallane/keys/codex.pub', '--predicate-type', 'https://slsa.dev/provenance/v1', '--builder-id', 'https://duallane.dev/builders/local']);
rows.push(['verified', 'signature + provenance, builder pinned']);

copyFileSync(join(dir, 'app.js'), join(dir, 'app-tampered.js'));
appendFileSync(join(dir, 'app-tampered.js'), 'process.exit(0); // injected\n');
cli(['verify', 'app-tampered.js', '--bundle', 'app.js.provenance.json', '--key', '.duallane/keys/codex.pub'], { expectExit: 1 });
rows.push(['tampered copy', 'rejected: SUBJECT_MISMATCH (exit 1)']);
cli(['verify', 'app.js', '--bundle', 'app.js.provenance.json', '--key', '.duallane/keys/claude.pub'], { expectExit: 1 });
rows.push(['wrong lane key', 'rejected: SIGNATURE_INVALID (exit 1)']);

const w = Math.max(...rows.map(([a]) => a.length));
process.stdout.write(`\nduallane demo finished in ${dir}\n\n`);
for (const [a, b] of rows) process.stdout.write(`  ${a.padEnd(w)}  ${b}\n`);
