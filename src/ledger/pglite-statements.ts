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
 * `reset()` forgets (and deallocates) every prepared statement; the driver calls it after any
 * multi-statement script (migrations, role scripts), whose DDL could change a statement's result.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, { name: string; paramTypes: number[] }>();

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

  async query<R>(text: string, params: readonly unknown[]): Promise<{ rows: R[]; affectedRows: number | undefined }> {
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
    return { rows: (result?.rows ?? []) as R[], affectedRows: result?.affectedRows };
  }

  async reset(): Promise<void> {
    if (this.prepared.size === 0) return;
    this.prepared.clear();
    await this.db.exec('DEALLOCATE ALL');
  }

  private async prepare(text: string): Promise<{ name: string; paramTypes: number[] }> {
    const known = this.prepared.get(text);
    if (known) return known;
    const name = `dl_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
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
