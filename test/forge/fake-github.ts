import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the GitHub REST API: the endpoints the forge calls, answering with recorded
 * response shapes (trimmed to the fields we read plus a few realistic extras). Failures are injected
 * per request with `inject`, so tests can replay GitHub's 403, 422 and rate-limit answers.
 */
export interface FakePull {
  number: number;
  html_url: string;
  state: 'open' | 'closed';
  merged_at: string | null;
  title: string;
  body: string;
  head: { ref: string; sha: string; label: string };
  base: { ref: string };
  labels: { name: string }[];
}

export interface Injected {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** How many matching requests it answers (default 1). */
  times?: number;
}

export class FakeGitHub {
  readonly pulls: FakePull[] = [];
  readonly comments = new Map<number, { id: number; body: string }[]>();
  /** Labels of plain issues (numbers that are not pull requests). */
  readonly issueLabels = new Map<number, string[]>();
  readonly requests: { method: string; path: string; auth?: string; body?: unknown }[] = [];
  private injected: Injected[] = [];
  /** Pretend the head branch exists (GitHub answers 422 otherwise). */
  readonly branches = new Set<string>();
  /** When false, any head branch counts as existing (the branch is pushed to a real remote elsewhere). */
  requireBranch = true;
  private server: Server | undefined;
  url = '';

  constructor(readonly owner = 'acme', readonly repo = 'widgets') {}

  inject(i: Injected): void {
    this.injected.push({ times: 1, ...i });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? JSON.parse(raw) : undefined;
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: u.pathname + u.search, auth: req.headers.authorization, body });
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-github-media-type': 'github.v3; format=json',
        ...headers,
      });
      res.end(JSON.stringify(data));
    };
    const inj = this.injected.find((i) => i.method === req.method && i.path.test(u.pathname));
    if (inj) {
      inj.times = (inj.times ?? 1) - 1;
      if (inj.times <= 0) this.injected = this.injected.filter((x) => x !== inj);
      return send(inj.status, inj.body, inj.headers);
    }
    const base = `/repos/${this.owner}/${this.repo}`;
    const p = u.pathname;
    if (req.method === 'GET' && p === `${base}/pulls`) {
      const head = u.searchParams.get('head');
      return send(200, this.pulls.filter((x) => !head || x.head.label === head));
    }
    if (req.method === 'POST' && p === `${base}/pulls`) {
      if (this.requireBranch && !this.branches.has(body.head)) {
        return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }], documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request', status: '422' });
      }
      if (this.pulls.some((x) => x.head.ref === body.head && x.state === 'open')) {
        return send(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${body.head}.` }],
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
          status: '422',
        });
      }
      const number = this.pulls.length + 1;
      const pr: FakePull = {
        number,
        html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`,
        state: 'open',
        merged_at: null,
        title: body.title,
        body: body.body,
        head: { ref: body.head, sha: 'f'.repeat(40), label: `${this.owner}:${body.head}` },
        base: { ref: body.base },
        labels: [],
      };
      this.pulls.push(pr);
      return send(201, { url: `${this.url}${base}/pulls/${number}`, id: 1000 + number, node_id: 'PR_x', ...pr });
    }
    let m = p.match(new RegExp(`^${base}/issues/(\\d+)/labels$`));
    if (m && req.method === 'POST') {
      const pr = this.pulls.find((x) => x.number === Number(m![1]));
      if (!pr && this.issueLabels.has(Number(m[1]))) {
        const names = [...new Set([...this.issueLabels.get(Number(m[1]))!, ...(body.labels as string[])])];
        this.issueLabels.set(Number(m[1]), names);
        return send(200, names.map((name, i) => ({ id: i + 1, node_id: 'LA_x', url: '', name, color: 'ededed', default: false, description: null })));
      }
      if (!pr) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      for (const name of body.labels as string[]) if (!pr.labels.some((l) => l.name === name)) pr.labels.push({ name });
      return send(200, pr.labels.map((l, i) => ({ id: i + 1, node_id: 'LA_x', url: '', name: l.name, color: 'ededed', default: false, description: null })));
    }
    m = p.match(new RegExp(`^${base}/issues/(\\d+)/comments$`));
    if (m) {
      const n = Number(m[1]);
      const list = this.comments.get(n) ?? [];
      if (req.method === 'GET') return send(200, list);
      if (req.method === 'POST') {
        const c = { id: 5000 + list.length, body: body.body as string };
        this.comments.set(n, [...list, c]);
        return send(201, c);
      }
    }
    send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  }
}
