import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateCommand } from '../support/services.js';
import { bearer, GIT_ENV, makeTemplate, workspace, type Workspace } from './fixture.js';

// The web page at / in Debian's headless Chromium (driven by playwright-core; no browser download),
// served by a real listener on loopback, with handoffs made through the API.
Object.assign(process.env, GIT_ENV);
const ok = gateCommand('chromium', 'chromium');

const XSS_TITLE = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> "quoted" & 'single'`;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!ok)('web page in headless Chromium', () => {
  let template: { dir: string; cleanup(): void };
  let w: Workspace;
  let url: string;
  let codex: string;
  const ids: Record<string, string> = {};
  let profile: string;

  beforeAll(async () => {
    template = await makeTemplate();
    w = await workspace(template.dir);
    codex = await w.token('codex');
    const claude = await w.token('claude');
    const post = async (title: string, patch: string) => {
      const r = await w.app.inject({ method: 'POST', url: '/v1/handoffs', headers: bearer(codex), payload: { title, patch } });
      if (r.statusCode !== 201) throw new Error(`propose failed: ${r.body}`);
      return (r.json() as { id: string }).id;
    };
    ids.accepted = await post('bump x to 2', w.patchFor(2));
    ids.xss = await post(XSS_TITLE, w.patchFor(3));
    ids.rejected = await post('edit a workflow', 'diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml\nnew file mode 100644\n--- /dev/null\n+++ b/.github/workflows/ci.yml\n@@ -0,0 +1 @@\n+on: push\n');
    for (const id of [ids.accepted, ids.rejected]) await w.app.inject({ method: 'POST', url: `/v1/handoffs/${id}/accept`, headers: bearer(claude) });
    url = await w.app.listen({ port: 0, host: '127.0.0.1' });
    profile = mkdtempSync(join(tmpdir(), 'duallane-chromium-'));
  }, 180_000);

  afterAll(async () => {
    await w?.close();
    template?.cleanup();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('lists handoffs with state, lanes, evidence and verification; titles are text; the CSP holds', async () => {
    const context = await chromium.launchPersistentContext(join(profile, 'user-data'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      httpCredentials: { username: 'codex', password: codex },
      viewport: { width: 1400, height: 900 },
    });
    try {
      const page = await context.newPage();
      const console: string[] = [];
      page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));

      const res = await page.goto(`${url}/`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");

      const rows = page.locator('#handoffs tbody tr[data-handoff-id]');
      expect(await rows.count()).toBe(3);
      const row = (id: string) => page.locator(`#handoffs tr[data-handoff-id="${id}"]`);

      // The attacker-shaped title is shown verbatim as text and nothing in it ran or loaded.
      expect(await row(ids.xss!).locator('.title').textContent()).toBe(XSS_TITLE);
      expect(await page.locator('#handoffs img, #handoffs tbody script').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(requests.filter((r) => !r.startsWith(url))).toEqual([]);

      // State, lanes, verification, evidence.
      const accepted = row(ids.accepted!);
      expect(await accepted.locator('.state').textContent()).toBe('pr_opened');
      expect(await accepted.locator('.verif').textContent()).toBe('verified');
      expect(await accepted.locator('td').nth(3).textContent()).toBe('codex → claude');
      const evidence = await accepted.locator('dl').innerText();
      expect(evidence).toMatch(/artifact\s+sha256:[0-9a-f]{64}/);
      expect(evidence).toMatch(/bundle\s+sha256:[0-9a-f]{64}/);
      expect(evidence).toContain(`lane/claude/${ids.accepted}`);
      expect(evidence).toMatch(/commit\s+[0-9a-f]{40}/);
      expect(evidence).toMatch(/PR\s+#1/);
      expect(await row(ids.rejected!).locator('.verif').textContent()).toBe('rejected: SCOPE_VIOLATION');
      expect(await row(ids.xss!).locator('.verif').textContent()).toBe('pending');
      expect(await row(ids.xss!).locator('td').nth(3).textContent()).toBe('codex → —');

      // The one stylesheet is allowed by its hash (styles applied), and nothing was refused.
      const thBackground = await page.locator('#handoffs th').first().evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(thBackground).toBe('rgb(246, 248, 250)');
      expect(console.filter((c) => /Content Security Policy|Refused/i.test(c))).toEqual([]);

      const shot = join(profile, 'handoffs.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      if (process.env.DUALLANE_KEEP_SCREENSHOT) await page.screenshot({ path: process.env.DUALLANE_KEEP_SCREENSHOT, fullPage: true });
    } finally {
      await context.close();
    }
  }, 120_000);

  it('without a valid token the browser gets the Basic challenge, not the page', async () => {
    const browser = await chromium.launchPersistentContext(join(profile, 'anon'), { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    try {
      // No credentials to answer the challenge with: Chromium gives up on it.
      const page = await browser.newPage();
      await expect(page.goto(`${url}/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await page.locator('#handoffs').count()).toBe(0);
    } finally {
      await browser.close();
    }
    const wrong = await chromium.launchPersistentContext(join(profile, 'wrong'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      httpCredentials: { username: 'codex', password: `${codex.slice(0, -1)}A` },
    });
    try {
      const page = await wrong.newPage();
      const res = await page.goto(`${url}/`).catch((e: Error) => e);
      if (!(res instanceof Error)) expect(res?.status()).toBe(401);
      else expect(res.message).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await page.locator('#handoffs').count()).toBe(0);
    } finally {
      await wrong.close();
    }
  }, 60_000);
});
