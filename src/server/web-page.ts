import { createHash } from 'node:crypto';
import type { StoredAlert } from './alerts-store.js';
import type { HandoffView } from './handoff-view.js';

/**
 * The web page at `/`: server-rendered HTML, no script, no external asset. Titles, summaries, branch
 * names, URLs and alert texts come from proposers and from Alertmanager: every one is escaped here,
 * and the Content-Security-Policy forbids scripts altogether (only this page's one stylesheet, by
 * hash), so a markup injection that slipped past escaping still could not run.
 */
const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f23;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
p.meta{color:#57606a;margin:0 0 1rem}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
code{font:12px ui-monospace,monospace;word-break:break-all}
.state,.verif{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:12px;background:#eaeef2}
.v-verified{background:#dafbe1;color:#116329}.v-rejected{background:#ffebe9;color:#a40e26}
.v-pending{background:#fff8c5;color:#7d4e00}.v-expired{background:#eaeef2;color:#57606a}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:0 .5rem}dt{color:#57606a}dd{margin:0}
.empty{color:#57606a;font-style:italic}
`;

export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every HTML response carries. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

const code = (v: string | null | undefined) => (v ? `<code>${escapeHtml(v)}</code>` : '<span class="empty">—</span>');

/** A link only for http(s) URLs; anything else (javascript:, data:, file:) is shown as text. */
function link(url: string, text: string): string {
  return /^https?:\/\//i.test(url) ? `<a href="${escapeHtml(url)}" rel="noreferrer noopener">${escapeHtml(text)}</a>` : escapeHtml(text);
}

function evidence(h: HandoffView): string {
  const rows: [string, string][] = [
    ['artifact', code(h.artifactDigest)],
    ['bundle', code(h.bundleDigest)],
    ['statement', code(h.statementDigest)],
    ['base', code(h.baseCommit)],
    ['branch', code(h.branch)],
    ['commit', code(h.commit)],
    ['PR', h.pr ? `${link(h.pr.url, `#${h.pr.number}`)}${h.pr.url && !/^https?:/i.test(h.pr.url) ? ` <code>${escapeHtml(h.pr.url)}</code>` : ''}` : '<span class="empty">—</span>'],
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function handoffRow(h: HandoffView): string {
  const verif = h.verification === 'rejected' && h.rejectReason ? `rejected: ${h.rejectReason}` : h.verification;
  return [
    `<tr data-handoff-id="${escapeHtml(h.id)}">`,
    `<td><div class="title">${escapeHtml(h.title)}</div><code>${escapeHtml(h.id)}</code></td>`,
    `<td><span class="state">${escapeHtml(h.state)}</span></td>`,
    `<td><span class="verif v-${escapeHtml(h.verification)}">${escapeHtml(verif)}</span></td>`,
    `<td>${escapeHtml(h.proposerLane)} → ${h.executorLane ? escapeHtml(h.executorLane) : '<span class="empty">—</span>'}</td>`,
    `<td>${evidence(h)}</td>`,
    `<td>${escapeHtml(h.updatedAt)}<br><small>expires ${escapeHtml(h.expiresAt)}</small></td>`,
    '</tr>',
  ].join('');
}

function alertRow(a: StoredAlert): string {
  return `<tr><td>${escapeHtml(a.name)}</td><td>${escapeHtml(a.severity)}</td><td>${escapeHtml(a.status)}</td><td>${escapeHtml(a.summary)}</td><td>${escapeHtml(a.firedAt)}</td></tr>`;
}

export function renderHandoffPage(data: { handoffs: HandoffView[]; alerts: StoredAlert[]; viewer: string; now: Date }): string {
  const hs = data.handoffs;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>duallane handoffs</title><style>${STYLE}</style></head>
<body>
<h1>duallane handoffs</h1>
<p class="meta">${hs.length} handoff${hs.length === 1 ? '' : 's'} · viewed as lane ${escapeHtml(data.viewer)} · ${escapeHtml(data.now.toISOString())}</p>
<table id="handoffs"><thead><tr><th>Handoff</th><th>State</th><th>Verification</th><th>Lanes (proposer → executor)</th><th>Evidence</th><th>Updated</th></tr></thead>
<tbody>${hs.length ? hs.map(handoffRow).join('\n') : '<tr><td colspan="6" class="empty">no handoffs yet</td></tr>'}</tbody></table>
<h2>Recent alerts</h2>
<table id="alerts"><thead><tr><th>Alert</th><th>Severity</th><th>Status</th><th>Summary</th><th>Fired</th></tr></thead>
<tbody>${data.alerts.length ? data.alerts.map(alertRow).join('\n') : '<tr><td colspan="5" class="empty">no alerts</td></tr>'}</tbody></table>
</body></html>
`;
}
