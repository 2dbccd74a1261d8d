import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG_YAML, defaultConfig, getLane, loadConfig, parseConfigText } from './index.js';

async function dirWith(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'duallane-config-'));
  await writeFile(join(dir, 'duallane.yaml'), text);
  return dir;
}

function problemsOf(fn: () => unknown): { code: string; errors: { line: number; path: string }[]; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return { code: e.code, errors: (e.details?.errors ?? []) as never, message: e.message };
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('duallane.yaml', () => {
  it('the scaffold text parses to exactly the built-in defaults', () => {
    const { root: _r, file: _f, ...defaults } = defaultConfig('/x');
    expect(parseConfigText(DEFAULT_CONFIG_YAML, 'duallane.yaml')).toEqual(defaults);
  });

  it('defaults: codex proposes, claude executes, with distinct roles', () => {
    const cfg = defaultConfig('/x');
    expect(getLane(cfg, 'codex')).toMatchObject({ kind: 'propose', db: { role: 'duallane_codex' } });
    expect(getLane(cfg, 'claude')).toMatchObject({ kind: 'execute', db: { role: 'duallane_claude' } });
    expect(() => getLane(cfg, 'nobody')).toThrow(ConfigError);
  });

  it('a missing file means defaults; a present one is loaded with root and file', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'duallane-config-'));
    expect((await loadConfig(empty)).file).toBeNull();
    const dir = await dirWith(DEFAULT_CONFIG_YAML.replace('maxFiles: 50', 'maxFiles: 7'));
    const cfg = await loadConfig(dir);
    expect(cfg.file).toBe(join(dir, 'duallane.yaml'));
    expect(getLane(cfg, 'codex').scope.maxFiles).toBe(7);
  });

  it('YAML syntax errors carry the line', () => {
    const p = problemsOf(() => parseConfigText('version: 1\nlanes:\n  - name: [unclosed\n', 'f.yaml'));
    expect(p.code).toBe('CONFIG_INVALID');
    expect(p.message).toMatch(/^f\.yaml:\d+:\d+: /);
  });

  it('schema errors name file, line and path, every one of them', () => {
    const text = DEFAULT_CONFIG_YAML.replace('kind: propose ', 'kind: proposer').replace('allowWorkflows: false', 'allowWorkflow: false');
    const p = problemsOf(() => parseConfigText(text, 'duallane.yaml'));
    const lines = text.split('\n');
    const kindLine = lines.findIndex((l) => l.includes('kind: proposer')) + 1;
    const typoLine = lines.findIndex((l) => l.includes('allowWorkflow:')) + 1;
    expect(p.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: kindLine, path: 'lanes[0].kind' }),
        expect.objectContaining({ line: typoLine, path: 'lanes[0].scope.allowWorkflow' }),
      ]),
    );
    expect(p.message.startsWith(`duallane.yaml:${kindLine}:`)).toBe(true);
  });

  it('keyless identity is a tagged union; a key identity without its paths is refused', () => {
    const keyless = DEFAULT_CONFIG_YAML.replace(
      /identity:\n {6}kind: key[^\n]*\n {6}privateKey: \.duallane\/keys\/codex\.key\n {6}publicKey: \.duallane\/keys\/codex\.pub/,
      'identity:\n      kind: keyless\n      issuer: https://token.actions.githubusercontent.com\n      subject: https://github.com/o/r/.github/workflows/propose.yml@refs/heads/main',
    );
    expect(parseConfigText(keyless, 'f').lanes[0]!.identity).toEqual({
      kind: 'keyless',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'https://github.com/o/r/.github/workflows/propose.yml@refs/heads/main',
    });
    const broken = DEFAULT_CONFIG_YAML.replace('      privateKey: .duallane/keys/codex.key\n', '');
    expect(problemsOf(() => parseConfigText(broken, 'f')).errors[0]).toMatchObject({ path: 'lanes[0].identity.privateKey' });
  });

  it('scope globs must stay inside the repository', () => {
    const bad = DEFAULT_CONFIG_YAML.replace("denied: ['.duallane/**', '.env*', '**/*.key']", "denied: ['../outside/**']");
    expect(problemsOf(() => parseConfigText(bad, 'f')).errors[0]).toMatchObject({ path: 'lanes[0].scope.denied[0]' });
  });

  it('duplicate roles and a missing execute lane are refused', () => {
    const dup = DEFAULT_CONFIG_YAML.replace('role: duallane_claude', 'role: duallane_codex');
    expect(problemsOf(() => parseConfigText(dup, 'f')).errors[0]).toMatchObject({ path: 'lanes[1].db.role' });
    const noExec = DEFAULT_CONFIG_YAML.replace('kind: execute ', 'kind: propose ');
    expect(problemsOf(() => parseConfigText(noExec, 'f')).errors.map((e) => e.path)).toContain('lanes');
  });
});
