import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback smart-HTTP git server for tests: a node:http front that demands
 * `Authorization: Basic base64(x-access-token:<token>)` (GitHub's form for installation and
 * fine-grained tokens) and answers 401 + `WWW-Authenticate: Basic` otherwise; authorized requests
 * are handed to `git http-backend` as a CGI program. Repositories live under `root`; a bare
 * repository needs `http.receivepack true` to accept pushes.
 */
export class GitHttpServer {
  /** Every request: method, path and the Authorization header as sent (tests look for tokens in it). */
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  private server?: Server;
  private port = 0;

  constructor(
    private readonly root: string,
    /** Tokens the server accepts. */
    readonly tokens: Set<string>,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The clone URL of a repository under root, e.g. `url('acme/widgets.git')`. */
  url(repoPath: string): string {
    return `http://127.0.0.1:${this.port}/${repoPath}`;
  }

  private authorizedUser(header: string | undefined): string | null {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    if (sep < 0) return null;
    const [user, pass] = [decoded.slice(0, sep), decoded.slice(sep + 1)];
    return user === 'x-access-token' && this.tokens.has(pass) ? user : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push({ method: req.method ?? '', path: url.pathname, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const user = this.authorizedUser(req.headers.authorization);
    if (!user) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.root,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: this.root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(child.stdin);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    const raw = Buffer.concat(out);
    const split = raw.indexOf('\r\n\r\n') >= 0 ? { at: raw.indexOf('\r\n\r\n'), len: 4 } : { at: raw.indexOf('\n\n'), len: 2 };
    if (split.at < 0) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(Buffer.concat(err));
      return;
    }
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of raw.subarray(0, split.at).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
      if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 500;
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    res.end(raw.subarray(split.at + split.len));
  }
}
