import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the GitHub REST label endpoints, answering with the shapes GitHub sends
 * (bodies, status codes and headers as recorded from api.github.com, 2022-11-28 API version):
 * list with Link-header pagination, create 201, update 200, delete 204, 401 Bad credentials,
 * 404, 422 Validation Failed / already_exists, 403 without admin rights, and the 403 primary rate
 * limit with x-ratelimit-remaining: 0.
 */
export interface FakeGitHubOptions {
  owner: string;
  repo: string;
  token: string;
  labels: { name: string; color: string; description: string | null }[];
  pageSize?: number;
  /** 'forbidden': writes get 403; 'rate-limited': every call gets the rate-limit 403. */
  mode?: 'normal' | 'forbidden' | 'rate-limited';
  /** Names that exist on GitHub but are hidden from listing (a concurrent creator): POST gets 422. */
  hiddenExisting?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  labels: { name: string; color: string; description: string | null }[];
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest/issues/labels';
const RESET = 1_790_000_000;

export async function startFakeGitHub(opts: FakeGitHubOptions): Promise<FakeGitHub> {
  const state = opts.labels.map((l) => ({ ...l }));
  const requests: RecordedRequest[] = [];
  const pageSize = opts.pageSize ?? 30;
  let nextId = 1000;
  const base = `/repos/${opts.owner}/${opts.repo}/labels`;
  let url = '';

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method ?? '', path: u.pathname + u.search, body });
      const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'x-github-api-version-selected': '2022-11-28',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '4999',
          'x-ratelimit-reset': String(RESET),
          'x-ratelimit-used': '1',
          'x-ratelimit-resource': 'core',
          ...headers,
        });
        res.end(data === undefined ? undefined : JSON.stringify(data));
      };
      const shape = (l: { name: string; color: string; description: string | null }, id = nextId++) => ({
        id,
        node_id: `LA_kwDO${id}`,
        url: `https://api.github.com${base}/${encodeURIComponent(l.name)}`,
        name: l.name,
        color: l.color,
        default: false,
        description: l.description,
      });

      if (opts.mode === 'rate-limited') {
        return send(
          403,
          {
            message: 'API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.',
            documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
            status: '403',
          },
          { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(RESET) },
        );
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${opts.token}` && auth !== `bearer ${opts.token}` && auth !== `Bearer ${opts.token}`) {
        if (auth !== '' || req.method !== 'GET') return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      }
      if (!u.pathname.startsWith(base)) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      if (req.method !== 'GET' && opts.mode === 'forbidden') {
        return send(403, { message: 'Must have admin rights to Repository.', documentation_url: `${DOCS}#create-a-label`, status: '403' });
      }
      const find = (name: string) => state.findIndex((l) => l.name.toLowerCase() === name.toLowerCase());

      if (req.method === 'GET' && u.pathname === base) {
        const page = Number(u.searchParams.get('page') ?? '1');
        const last = Math.max(1, Math.ceil(state.length / pageSize));
        const items = state.slice((page - 1) * pageSize, page * pageSize).map((l, i) => shape(l, 100 + (page - 1) * pageSize + i));
        const link = (p: number) => `<${url}${base}?per_page=${u.searchParams.get('per_page') ?? '30'}&page=${p}>`;
        const rels: string[] = [];
        if (page > 1) rels.push(`${link(page - 1)}; rel="prev"`, `${link(1)}; rel="first"`);
        if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
        return send(200, items, rels.length ? { link: rels.join(', ') } : {});
      }
      if (req.method === 'POST' && u.pathname === base) {
        const name = String(body?.name ?? '');
        if (find(name) >= 0 || (opts.hiddenExisting ?? []).some((h) => h.toLowerCase() === name.toLowerCase())) {
          return send(422, {
            message: 'Validation Failed',
            errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }],
            documentation_url: `${DOCS}#create-a-label`,
            status: '422',
          });
        }
        const l = { name, color: String(body?.color ?? ''), description: (body?.description as string | undefined) ?? null };
        state.push(l);
        return send(201, shape(l), { location: `https://api.github.com${base}/${encodeURIComponent(name)}` });
      }
      const one = decodeURIComponent(u.pathname.slice(base.length + 1));
      const idx = find(one);
      if (idx < 0) return send(404, { message: 'Not Found', documentation_url: `${DOCS}#update-a-label`, status: '404' });
      if (req.method === 'PATCH') {
        const l = state[idx]!;
        if (typeof body?.new_name === 'string') l.name = body.new_name;
        if (typeof body?.color === 'string') l.color = body.color;
        if (typeof body?.description === 'string') l.description = body.description;
        return send(200, shape(l));
      }
      if (req.method === 'DELETE') {
        state.splice(idx, 1);
        res.writeHead(204).end();
        return;
      }
      return send(404, { message: 'Not Found', status: '404' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    labels: state,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
