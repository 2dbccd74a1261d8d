import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BIN, type CliResult } from '../support/cli.js';

/**
 * Runs the built CLI with EXACTLY `env` (plus PATH/HOME), unlike runCli which inherits the test
 * runner's environment: credential checks must not see whatever the developer's shell holds.
 */
export function runCliClean(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', CI: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A stand-in for api.github.com serving recorded response shapes of GET /repos/{owner}/{repo}:
 * classic tokens answer with an `x-oauth-scopes` header, fine-grained ones without it; the body's
 * `permissions` object is the caller's access. Tokens map to canned answers; unknown ones get 401.
 */
export async function fakeGithub(tokens: Record<string, { scopes?: string; permissions: Record<string, boolean> }>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const token = (req.headers.authorization ?? '').replace(/^(Bearer|token) /, '');
    const answer = tokens[token];
    const common = { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-resource': 'core' };
    if (!answer) {
      res.writeHead(401, common).end(JSON.stringify({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }));
      return;
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404, common).end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }));
      return;
    }
    const headers: Record<string, string> = { ...common };
    if (answer.scopes !== undefined) {
      headers['x-oauth-scopes'] = answer.scopes;
      headers['x-accepted-oauth-scopes'] = 'repo';
    }
    res.writeHead(200, headers).end(
      JSON.stringify({
        id: 1296269,
        node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
        name: m[2],
        full_name: `${m[1]}/${m[2]}`,
        private: true,
        owner: { login: m[1], id: 1, type: 'Organization' },
        default_branch: 'main',
        visibility: 'private',
        permissions: answer.permissions,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
