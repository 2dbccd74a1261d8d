import { describe, expect, it } from 'vitest';
import { auditRowHash, verifyAuditChain, type StoredAuditRow } from './audit-chain.js';
import { GENESIS_HASH } from './migrations.js';

function chain(n: number): StoredAuditRow[] {
  const rows: StoredAuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const content = JSON.stringify(['codex', 'act', String(seq), { seq }]);
    const hash = auditRowHash(prev, content);
    rows.push({ seq, prevHash: prev, hash, content });
    prev = hash;
  }
  return rows;
}
const headOf = (rows: StoredAuditRow[]) => ({ seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash });

describe('verifyAuditChain', () => {
  it('accepts an intact chain and an empty log', () => {
    const rows = chain(5);
    expect(verifyAuditChain(rows, headOf(rows))).toEqual({ ok: true, rows: 5, head: headOf(rows), findings: [] });
    expect(verifyAuditChain([], null).ok).toBe(true);
  });

  it('names an edited row', () => {
    const rows = chain(5);
    const head = headOf(rows);
    rows[2] = { ...rows[2]!, content: rows[2]!.content.replace('3', '4') };
    expect(verifyAuditChain(rows, head).findings).toEqual([expect.objectContaining({ kind: 'edited', seq: 3 })]);
  });

  it('names a deleted row, including one hidden by renumbering, and a deleted newest row', () => {
    const rows = chain(5);
    const head = headOf(rows);
    expect(verifyAuditChain(rows.filter((r) => r.seq !== 2), head).findings).toEqual([expect.objectContaining({ kind: 'deleted', seq: 2 })]);
    const renumbered = rows.filter((r) => r.seq !== 2).map((r, i) => ({ ...r, seq: i + 1 }));
    expect(verifyAuditChain(renumbered, { seq: 4, hash: head.hash }).findings).toEqual([expect.objectContaining({ kind: 'deleted', seq: 2 })]);
    expect(verifyAuditChain(rows.slice(0, 4), head).findings).toEqual([expect.objectContaining({ kind: 'deleted', seq: 5 })]);
  });

  it('names reordered rows', () => {
    const rows = chain(5);
    const head = headOf(rows);
    const swapped = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[1]!, seq: 3 }, rows[3]!, rows[4]!];
    const f = verifyAuditChain(swapped, head).findings;
    expect(f.every((x) => x.kind === 'reordered')).toBe(true);
    expect(f.map((x) => x.seq)).toEqual(expect.arrayContaining([2, 3]));
  });
});
