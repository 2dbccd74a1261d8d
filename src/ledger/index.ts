/**
 * The handoff ledger: PGlite (embedded, default `.duallane/ledger`) or PostgreSQL (server mode,
 * `DATABASE_URL`), with the same SQL and migrations.
 *
 * Usage (what handoff and server code should call):
 *
 *   const ledger = await openLedger(config, { lane: 'claude' });   // server mode: logs in as the lane's role
 *   try {
 *     await ledger.withLane('claude', async (tx) => {               // ONE transaction, SET LOCAL ROLE <lane role>
 *       const h = await tx.lockProposed({ next: true });            // FOR UPDATE SKIP LOCKED; null when none
 *       if (!h) return;
 *       // ... verify while holding the row ...
 *       await tx.consumeAndTransition(h.id, { statementDigest: h.statementDigest, nonce: h.nonce! }, 'proposed', 'verified');
 *       // one statement: REPLAY on reuse (nothing written, tx stays usable), else moves exactly once or STATE_CONFLICT
 *     });
 *   } finally { await ledger.close(); }
 *
 *  - `tx.insertHandoff(...)` (propose lanes), `tx.transitionHandoff(id, from, to, fields)`,
 *    `tx.consumeAndTransition`, `tx.openPullRequest` and `tx.claimNextPending()` (execute lanes)
 *    write their own audit rows in the same statement; `tx.appendAudit(...)` adds others. Every state
 *    change and its audit row commit together or not at all. Single-statement work may pass
 *    `{ autocommit: true }` to withLane.
 *  - Reads: `tx.getHandoff`, `tx.listHandoffs`, `tx.getPullRequest`, `tx.listPullRequests`,
 *    `tx.listAudit`, `tx.listLaneRuns`, `tx.isConsumed`. `tx.recordPullRequest`, `tx.recordLaneRun`.
 *  - Errors are LedgerError with codes (see ledger-error.ts): REPLAY, STATE_CONFLICT, PERMISSION_DENIED
 *    and NOT_FOUND are rejections; DB_UNAVAILABLE, SCHEMA_MISSING, ROLE_MISSING, MIGRATION_* are
 *    environment errors (exit 3).
 *  - Administrators: `ledger.migrate()`, `ledger.applyRoles(config)`, `ledger.verifyAudit()`,
 *    `ledger.withAdmin(fn)`. `rolesSql(config)` is what `db roles apply --print-sql` prints.
 *  - Schema changes: append a Migration to MIGRATIONS (never edit an applied one); grants for a new
 *    table go into LANE_PRIVILEGES, which `creds check` also compares the catalog against.
 */
export { Ledger } from './ledger.js';
export type { LedgerOptions } from './ledger.js';
export { openLedger, resolveLedgerTarget } from './open-ledger.js';
export type { OpenLedgerOptions } from './open-ledger.js';
export type { LedgerTarget, SqlTx } from './driver.js';
export { LaneTx, ADMIN_LANE } from './lane-tx.js';
export type { Handoff, HandoffState, NewHandoff, TransitionFields, PullRequest, PullRequestRecord, LaneRun, LaneRunRecord, AuditEntry, AuditRow } from './lane-tx.js';
export { LedgerError, LEDGER_REJECTION_CODES, redactUrl } from './ledger-error.js';
export type { LedgerErrorCode } from './ledger-error.js';
export { MIGRATIONS, HANDOFF_STATES, HANDOFF_TRANSITIONS, LEDGER_TABLES, GENESIS_HASH } from './migrations.js';
export type { Migration, LedgerTable } from './migrations.js';
export { migrationChecksum } from './migrate.js';
export type { MigrateResult } from './migrate.js';
export { rolesSql, LANE_PRIVILEGES, TABLE_PRIVILEGES } from './roles.js';
export type { TableGrant, TablePrivilege } from './roles.js';
export { verifyAuditChain, auditRowHash } from './audit-chain.js';
export type { AuditReport, AuditFinding, AuditFindingKind, StoredAuditRow } from './audit-chain.js';
export { checkLaneDbPrivileges } from './privileges-check.js';
export type { DbPrivilegeReport, CredentialFinding } from './privileges-check.js';
