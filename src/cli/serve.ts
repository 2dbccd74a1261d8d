import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, resolveConfigPath, type DuallaneConfig } from '../config/index.js';
import { openLedger } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { buildServer, DEFAULT_BODY_LIMIT, DEFAULT_HANDOFF_BODY_LIMIT, DEFAULT_TOKEN_FILE, ServerError, TokenStore } from '../server/index.js';
import { loadInitializedConfig } from './cli-config.js';
import { makePrinter } from './output.js';

interface ServeFlags {
  port: string;
  host: string;
  dir: string;
  repo?: string;
  lane?: string;
  bodyLimit: string;
  handoffBodyLimit: string;
  json?: boolean;
}

function intFlag(v: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new InputError('BAD_USAGE', `${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new InputError('BAD_USAGE', `${name} must be between ${min} and ${max}`);
  return n;
}

/**
 * `serve` has --dir and --json too, and commander hands options written after `serve token create`
 * to whichever command knows them first; merging with the parents' values makes
 * `serve token create --dir D --json` and `serve --dir D token create` mean the same.
 */
function mergedOpts<T>(cmd: Command): T {
  const o = cmd.optsWithGlobals() as T & { dir?: string };
  return { ...o, dir: o.dir ?? process.cwd() };
}

const tokenStoreFor = (config: DuallaneConfig) => new TokenStore(resolveConfigPath(config, DEFAULT_TOKEN_FILE));

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('HTTP API and web page for the lane handoff (per-lane bearer tokens), /healthz, /readyz, /metrics, POST /v1/alerts')
    .option('--port <n>', 'port to listen on (0: any free port)', '8787')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--dir <dir>', 'directory holding duallane.yaml', process.cwd())
    .option('--repo <dir>', 'git repository proposals apply to (default: the --dir)')
    .option('--lane <lane>', "serve this lane only, logged in to the ledger with the lane's own database URL")
    .option('--body-limit <bytes>', 'largest request body', String(DEFAULT_BODY_LIMIT))
    .option('--handoff-body-limit <bytes>', 'largest POST /v1/handoffs body (it carries the patch)', String(DEFAULT_HANDOFF_BODY_LIMIT))
    .option('--json', 'print the listening address as JSON')
    .action(async (f: ServeFlags) => {
      const out = makePrinter(Boolean(f.json));
      const port = intFlag(f.port, '--port', 0, 65535);
      const bodyLimit = intFlag(f.bodyLimit, '--body-limit', 1024, 1024 ** 3);
      const handoffBodyLimit = intFlag(f.handoffBodyLimit, '--handoff-body-limit', 1024, 1024 ** 3);
      const config = await loadInitializedConfig(f.dir);
      const logger = createLogger({ name: 'server' });
      if (f.lane !== undefined && !config.lanes.some((l) => l.name === f.lane)) throw new ServerError('LANE_UNKNOWN', `no lane ${JSON.stringify(f.lane)} in duallane.yaml`);
      // Each request runs as its token's lane (SET LOCAL ROLE). Without --lane the server holds the
      // administrator's connection and acts for every lane; with --lane only for that one.
      const ledger = await openLedger(config, f.lane !== undefined ? { lane: f.lane } : {});
      const app = buildServer({
        config,
        ledger,
        tokens: tokenStoreFor(config),
        logger,
        bodyLimit,
        handoffBodyLimit,
        ...(f.lane !== undefined ? { onlyLane: f.lane } : {}),
        ...(f.repo ? { repoDir: resolve(f.repo) } : {}),
      });
      let address: string;
      try {
        address = await app.listen({ port, host: f.host });
      } catch (cause) {
        await ledger.close();
        throw new ServerError('LISTEN_FAILED', `cannot listen on ${f.host}:${port}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        // Finish in-flight requests, then release the ledger (PGlite flushes on close).
        void app
          .close()
          .then(() => ledger.close())
          .then(
            () => process.exit(0),
            (e: unknown) => {
              logger.error({ err: e }, 'unclean stop');
              process.exit(3);
            },
          );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      logger.info({ url: address, ledger: ledger.where }, 'duallane serve listening');
      out.result({ ok: true, listening: address, ledger: { kind: ledger.kind, where: ledger.where } }, () => `duallane serve listening on ${address} (ledger ${ledger.where})`);
    });

  const token = serve.command('token').description('API bearer tokens (stored hashed in .duallane/server/tokens.json)');

  token
    .command('create')
    .description('create a token for a lane (or an alerts-only token); printed once, only its sha256 is stored')
    .option('--lane <lane>', 'the lane the token acts for (its kind comes from duallane.yaml)')
    .option('--alerts', 'an alerts-only token (may only POST /v1/alerts; for Alertmanager)')
    .option('--dir <dir>', 'directory holding duallane.yaml (default: the current directory)')
    .option('--json', 'print {"token","id","lane","kind","createdAt"} as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = mergedOpts<{ lane?: string; alerts?: boolean; dir: string; json?: boolean }>(cmd);
      const out = makePrinter(Boolean(o.json));
      if (Boolean(o.lane) === Boolean(o.alerts)) throw new InputError('BAD_USAGE', 'give exactly one of --lane LANE or --alerts');
      const config = await loadInitializedConfig(o.dir);
      if (o.lane && !config.lanes.some((l) => l.name === o.lane)) {
        throw new ServerError('LANE_UNKNOWN', `no lane ${JSON.stringify(o.lane)} in duallane.yaml (lanes: ${config.lanes.map((l) => l.name).join(', ')})`);
      }
      const store = tokenStoreFor(config);
      const { token: secret, record } = await store.create(o.alerts ? { kind: 'alerts' } : { kind: 'lane', lane: o.lane! });
      const laneKind = record.lane ? config.lanes.find((l) => l.name === record.lane)!.kind : null;
      out.result({ token: secret, id: record.id, kind: record.kind, lane: record.lane, laneKind, createdAt: record.createdAt, file: store.file }, () => [
        secret,
        `token ${record.id} for ${record.lane ? `lane ${record.lane} (${laneKind})` : 'alerts'}: shown once, only its sha256 is stored in ${store.file}`,
      ]);
    });

  token
    .command('list')
    .description('list tokens (ids, lanes, creation times; never the tokens)')
    .option('--dir <dir>', 'directory holding duallane.yaml (default: the current directory)')
    .option('--json', 'print the records as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = mergedOpts<{ dir: string; json?: boolean }>(cmd);
      const out = makePrinter(Boolean(o.json));
      const config = await loadInitializedConfig(o.dir);
      const records = await tokenStoreFor(config).list();
      const rows = records.map((r) => ({ id: r.id, kind: r.kind, lane: r.lane, laneKind: r.lane ? (config.lanes.find((l) => l.name === r.lane)?.kind ?? 'unconfigured') : null, createdAt: r.createdAt }));
      out.result({ tokens: rows }, () => (rows.length ? rows.map((r) => `${r.id}  ${r.lane ? `lane ${r.lane} (${r.laneKind})` : 'alerts'}  ${r.createdAt}`) : ['no tokens']));
    });

  token
    .command('revoke')
    .description('delete a token by id')
    .argument('<id>', 'token id (tok_...)')
    .option('--dir <dir>', 'directory holding duallane.yaml (default: the current directory)')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const o = mergedOpts<{ dir: string; json?: boolean }>(cmd);
      const out = makePrinter(Boolean(o.json));
      const config = await loadInitializedConfig(o.dir);
      if (!(await tokenStoreFor(config).revoke(id))) throw new ServerError('NOT_FOUND', `no token ${id}`);
      out.result({ ok: true, revoked: id }, () => `revoked ${id}`);
    });
}
