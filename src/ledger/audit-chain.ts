import { createHash } from 'node:crypto';
import { GENESIS_HASH } from './migrations.js';

/** One stored audit row as verify-audit reads it: `content` is the canonical text of its fields. */
export interface StoredAuditRow {
  seq: number;
  prevHash: string;
  hash: string;
  content: string;
}

export type AuditFindingKind = 'edited' | 'deleted' | 'reordered';

export interface AuditFinding {
  kind: AuditFindingKind;
  /** The row named: the edited or displaced row, or the missing sequence number. */
  seq: number;
  message: string;
}

export interface AuditReport {
  ok: boolean;
  rows: number;
  head: { seq: number; hash: string } | null;
  findings: AuditFinding[];
  /** Rows committed but not yet chained when the check read the log (not checked, not a finding). */
  unsealed?: number;
  /** Why sealing before the check failed (the findings usually say what broke the chain). */
  sealError?: string;
}

/** hash = sha256(prev_hash || "\n" || canonical content), hex. duallane_audit_seal() computes the same in SQL. */
export function auditRowHash(prevHash: string, content: string): string {
  return createHash('sha256').update(`${prevHash}\n${content}`, 'utf8').digest('hex');
}

/**
 * Re-derives the chain in this process (never trusting a hash the database computed) and names every
 * row that breaks it:
 *  - edited: the stored hash is not sha256(prev_hash, content) — a field, or the hash itself, changed;
 *  - deleted: a sequence number is missing, a row links to a hash no row has, or the recorded head
 *    is past the last row (the newest row was removed);
 *  - reordered: a row links to a row that exists but is not its predecessor.
 * Threat not covered: an actor who can rewrite every row and the head consistently (a superuser
 * recomputing the whole chain). Compare the head hash with a copy kept elsewhere to catch that.
 */
export function verifyAuditChain(rows: readonly StoredAuditRow[], head: { seq: number; hash: string } | null): AuditReport {
  const findings: AuditFinding[] = [];
  const bySeqHash = new Map(rows.map((r) => [r.hash, r.seq]));
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows) {
    const edited = auditRowHash(row.prevHash, row.content) !== row.hash;
    if (edited) {
      findings.push({ kind: 'edited', seq: row.seq, message: `audit row seq ${row.seq} was edited: its hash does not match its content` });
    }
    let gap = false;
    for (let missing = expectedSeq; missing < row.seq; missing++) {
      gap = true;
      findings.push({ kind: 'deleted', seq: missing, message: `audit row seq ${missing} was deleted` });
    }
    // A row whose own hash is already wrong (say its prev_hash was edited) is reported once, as edited.
    if (row.prevHash !== expectedPrev && !gap && !edited) {
      const linked = bySeqHash.get(row.prevHash);
      if (linked !== undefined) {
        findings.push({ kind: 'reordered', seq: row.seq, message: `audit row seq ${row.seq} is out of order: it follows seq ${linked}, not seq ${row.seq - 1}` });
      } else {
        findings.push({ kind: 'deleted', seq: row.seq, message: `a row before audit row seq ${row.seq} was deleted (its predecessor's hash is nowhere in the log)` });
      }
    }
    expectedPrev = row.hash;
    expectedSeq = row.seq + 1;
  }
  const last = rows.at(-1);
  if (head) {
    for (let missing = expectedSeq; missing <= head.seq; missing++) {
      findings.push({ kind: 'deleted', seq: missing, message: `audit row seq ${missing} was deleted (the chain head is seq ${head.seq})` });
    }
    if (last && head.seq === last.seq && head.hash !== last.hash) {
      findings.push({ kind: 'edited', seq: last.seq, message: `audit row seq ${last.seq} differs from the recorded chain head` });
    }
  } else if (rows.length > 0) {
    findings.push({ kind: 'deleted', seq: 0, message: 'the audit chain head record is missing' });
  }
  return { ok: findings.length === 0, rows: rows.length, head, findings };
}
