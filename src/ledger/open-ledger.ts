import { getLane, resolveConfigPath, type DuallaneConfig } from '../config/index.js';
import type { LedgerTarget } from './driver.js';
import { Ledger } from './ledger.js';
import { LedgerError } from './ledger-error.js';

const PG_URL = /^postgres(ql)?:\/\//;

/**
 * Where this process's ledger is. With `lane`, the lane's own URL variable (`lanes[].db.urlEnv`,
 * default DATABASE_URL) is read — in server mode that URL logs in as the lane's role. Without a lane,
 * the administrator's (`ledger.urlEnv`). `ledger.kind: auto` picks server mode when the variable
 * holds a postgres:// URL, else the embedded PGlite directory.
 */
export function resolveLedgerTarget(config: DuallaneConfig, opts: { env?: NodeJS.ProcessEnv; lane?: string } = {}): LedgerTarget {
  const env = opts.env ?? process.env;
  const urlEnv = opts.lane ? getLane(config, opts.lane).db.urlEnv : config.ledger.urlEnv;
  const url = env[urlEnv];
  const embedded: LedgerTarget = { kind: 'embedded', path: resolveConfigPath(config, config.ledger.path) };
  switch (config.ledger.kind) {
    case 'embedded':
      return embedded;
    case 'server':
      if (!url) throw new LedgerError('BAD_USAGE', `ledger.kind is server but $${urlEnv} is not set`);
      if (!PG_URL.test(url)) throw new LedgerError('BAD_USAGE', `$${urlEnv} is not a postgres:// URL`);
      return { kind: 'server', url };
    case 'auto':
      return url && PG_URL.test(url) ? { kind: 'server', url } : embedded;
  }
}

export interface OpenLedgerOptions {
  env?: NodeJS.ProcessEnv;
  /** Open with this lane's URL (server mode: its own login role). */
  lane?: string;
  /**
   * Embedded mode only: apply migrations and lane roles on open (default true). In server mode the
   * administrator runs `duallane db migrate` and `duallane db roles apply` instead; lanes cannot.
   */
  prepareEmbedded?: boolean;
  poolSize?: number;
}

/** Opens the ledger `config` describes; the one entry point the CLI, handoff and server use. */
export async function openLedger(config: DuallaneConfig, opts: OpenLedgerOptions = {}): Promise<Ledger> {
  const target = resolveLedgerTarget(config, opts);
  const ledger = await Ledger.open(target, { lanes: config.lanes, poolSize: opts.poolSize });
  if (target.kind === 'embedded' && opts.prepareEmbedded !== false) {
    try {
      if (!(await ledger.isPrepared(config))) {
        await ledger.migrate();
        await ledger.applyRoles(config);
      }
    } catch (e) {
      await ledger.close();
      throw e;
    }
  }
  return ledger;
}
