import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';

type Protocol = typeof import('@electric-sql/pglite')['protocol'];
type ParseResults = typeof import('@electric-sql/pglite')['parse']['parseResults'];
type ParseDescribe = typeof import('@electric-sql/pglite')['parse']['parseDescribeStatementResults'];

/**
 * Parameterized statements on PGlite, prepared once per session and then run as ONE protocol
 * exchange (Bind, Describe, Execute, Sync in one message): PGlite's own `query` re-parses and
 * re-plans every call and crosses into the engine six times, which is most of a ledger statement's
 * cost there. Values are serialized by PGlite's own type serializers and results parsed by its own
 * parser, so rows look exactly as `query` returns them.
 *
 * `reset()` (after a script that succeeded) deallocates every prepared statement, `forget()` (after one
 * that failed) only forgets them: the driver calls one of them after every multi-statement script
 * (migrations, role scripts), whose DDL could change a statement's result.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, { name: string; paramTypes: number[] }>();
  private generation = 0;

  private constructor(
    private readonly db: PGlite,
    private readonly protocol: Protocol,
    private readonly parseResults: ParseResults,
    private readonly parseDescribe: ParseDescribe,
  ) {}

  static async create(db: PGlite): Promise<PgliteStatements> {
    const { protocol, parse } = await import('@electric-sql/pglite');
    return new PgliteStatements(db, protocol, parse.parseResults, parse.parseDescribeStatementResults);
  }

  async query<R>(text: string, params: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    const stmt = await this.prepare(text);
    if (stmt.paramTypes.length !== params.length) throw new Error(`statement expects ${stmt.paramTypes.length} parameters, got ${params.length}`);
    const s = this.protocol.serialize;
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = this.db.serializers[stmt.paramTypes[i]!];
      return serializer ? serializer(v) : String(v);
    });
    const { messages } = await this.db.execProtocol(concat([s.bind({ statement: stmt.name, values }), s.describe({ type: 'P' }), s.execute({}), s.sync()]));
    const [result] = this.parseResults(messages, this.db.parsers);
    const rows = (result?.rows ?? []) as R[];
    // Like node-pg: the command tag's count (rows returned by a SELECT, changed by a write).
    return { rows, rowCount: result?.rowCount ?? result?.affectedRows ?? rows.length };
  }

  /** After a script that succeeded: deallocate every prepared statement and prepare afresh. */
  async reset(): Promise<void> {
    if (this.prepared.size === 0) return;
    this.forget();
    await this.db.exec('DEALLOCATE ALL');
  }

  /**
   * After a script that failed (its transaction may be aborted, so no SQL now): forget every
   * prepared statement; new names (another generation) keep the old ones from colliding.
   */
  forget(): void {
    this.prepared.clear();
    this.generation++;
  }

  private async prepare(text: string): Promise<{ name: string; paramTypes: number[] }> {
    const known = this.prepared.get(text);
    if (known) return known;
    const name = `dl${this.generation}_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    const s = this.protocol.serialize;
    const { messages } = await this.db.execProtocol(concat([s.parse({ name, text }), s.describe({ type: 'S', name }), s.sync()]));
    const stmt = { name, paramTypes: this.parseDescribe(messages) };
    this.prepared.set(text, stmt);
    return stmt;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
