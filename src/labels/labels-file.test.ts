import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isEmojiOnly, lintLabels } from './labels-file.js';
import { planLabelSync } from './sync-plan.js';

describe('lintLabels', () => {
  it('the shipped taxonomy is clean, has 60+ labels and uses every namespace', () => {
    const text = readFileSync(new URL('../../.github/labels.yml', import.meta.url), 'utf8');
    const r = lintLabels(text);
    expect(r.findings).toEqual([]);
    expect(r.labels.length).toBeGreaterThanOrEqual(60);
    for (const ns of ['lane', 'handoff', 'provenance', 'policy', 'drift', 'priority', 'area', 'kind']) {
      expect(r.labels.some((l) => l.name.startsWith(`${ns}:`)), ns).toBe(true);
    }
    expect(r.labels.every((l) => l.description.length > 0)).toBe(true);
  });

  it("reports each GitHub limit with file:line:column", () => {
    const text = [
      '- name: ok',
      "  color: '00ff00'",
      '  description: fine',
      `- name: ${'x'.repeat(51)}`,
      "  color: '#00ff00'",
      `  description: ${'d'.repeat(101)}`,
      '- name: OK',
      '  color: 12345',
      '- name: "🚀 ✨"',
      "  colour: 'ffffff'",
      '- name: ":bug:"',
      "  color: 'ffffff'",
      '  aliases: [ok]',
    ].join('\n');
    const r = lintLabels(text, 'labels.yml');
    const got = r.findings.map((f) => `${f.line}:${f.rule}`);
    expect(got).toEqual(
      expect.arrayContaining(['4:name-length', '5:color', '6:description-length', '7:duplicate', '8:color', '9:emoji-only', '10:unknown-key', '11:emoji-only', '13:duplicate']),
    );
    expect(r.findings.find((f) => f.rule === 'color' && f.line === 5)!.message).toContain('drop the #');
    expect(r.findings.every((f) => f.file === 'labels.yml' && f.column >= 1)).toBe(true);
  });

  it('reads six-digit numeric colors as written, and reports YAML syntax errors with a line', () => {
    expect(lintLabels("- name: a\n  color: 000001\n  description: x\n").labels[0]!.color).toBe('000001');
    const bad = lintLabels('- name: a\n  color: [\n');
    expect(bad.findings[0]!.rule).toBe('schema');
    expect(bad.findings[0]!.line).toBeGreaterThan(0);
  });

  it('counts emoji-only names', () => {
    expect(isEmojiOnly('🚀')).toBe(true);
    expect(isEmojiOnly('👍🏽 🇩🇪')).toBe(true);
    expect(isEmojiOnly(':rocket: :tada:')).toBe(true);
    expect(isEmojiOnly('🚀 launch')).toBe(false);
    expect(isEmojiOnly('p1')).toBe(false);
  });
});

describe('planLabelSync', () => {
  const spec = (name: string, color: string, description: string, aliases: string[] = []) => ({ name, color, description, aliases, line: 1 });
  it('creates, keeps, updates, renames via aliases, and deletes only with prune', () => {
    const desired = [spec('kind:bug', 'd73a4a', 'Bug', ['bug']), spec('area:cli', 'bfd4f2', 'CLI'), spec('lane:codex', '1d76db', 'Propose'), spec('new', 'ffffff', 'n')];
    const current = [
      { name: 'bug', color: 'D73A4A', description: 'Bug' },
      { name: 'Area:CLI', color: 'bfd4f2', description: 'CLI' },
      { name: 'lane:codex', color: '000000', description: null },
      { name: 'stale', color: 'eeeeee', description: '' },
    ];
    const plan = planLabelSync(desired, current, { prune: false });
    expect(plan.map((a) => a.kind)).toEqual(['update', 'update', 'update', 'create', 'extra']);
    expect(plan[0]).toMatchObject({ kind: 'update', changes: ['name'] });
    expect(plan[1]).toMatchObject({ kind: 'update', changes: ['name'] });
    expect(plan[2]).toMatchObject({ kind: 'update', changes: ['color', 'description'] });
    expect(planLabelSync(desired, current, { prune: true }).at(-1)).toMatchObject({ kind: 'delete', current: { name: 'stale' } });
  });
});
