import type { TestRunReport } from './test-runner.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML for CI systems: one testsuite per test file, one testcase per policy/rule/resource row. */
export function toJUnit(report: TestRunReport): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const { pass, fail, skip } = report.summary;
  lines.push(`<testsuites name="duallane policy test" tests="${pass + fail + skip}" failures="${fail}" skipped="${skip}">`);
  for (const t of report.tests) {
    const failures = t.rows.filter((r) => r.outcome === 'fail').length;
    const skipped = t.rows.filter((r) => r.outcome === 'pass' && r.skipped).length;
    lines.push(`  <testsuite name="${esc(t.name)}" file="${esc(t.path)}" tests="${t.rows.length}" failures="${failures}" skipped="${skipped}">`);
    for (const r of t.rows) {
      const name = esc(`${r.policy}/${r.rule}/${r.resource}`);
      lines.push(`    <testcase classname="${esc(r.policy)}" name="${name}">`);
      if (r.outcome === 'fail') lines.push(`      <failure message="${esc(r.reason)}">${esc(r.message)}</failure>`);
      else if (r.skipped) lines.push(`      <skipped message="${esc(r.reason)}"/>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n');
}
