import { describeProblem } from '../providers/errors/problem-words.js';
import type { AuditRow } from './admin-audit.service.js';
import { hourlyChart } from './admin-chart.js';
import type {
  AdminDataService,
  ConnectionFilter,
  ConnectionRow,
  Overview,
} from './admin-data.service.js';
import { type ConnectionHealth, HEALTH_STATES } from '../connection-health/health.js';
import type { ConnectionIssue } from '../connection-health/issues.service.js';

/** Escapes text and attribute values (all five characters, so either quote style is safe). */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

export function timeText(value: Date | string | null | undefined, none = '—'): string {
  if (!value) return esc(none);
  const iso = new Date(value).toISOString();
  return `<time datetime="${esc(iso)}">${esc(`${DATE_FORMAT.format(new Date(iso))} UTC`)}</time>`;
}

/** "3 min", "2 h 5 min", "4 days": an age or a duration for people. */
export function durationText(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}

function ageText(value: Date | string | null | undefined): string {
  if (!value) return '—';
  return `${durationText((Date.now() - new Date(value).getTime()) / 1000)} ago`;
}

export type AdminPage = 'overview' | 'connections' | 'issues' | 'queues' | 'none';

interface LayoutOptions {
  page: AdminPage;
  /** Present when signed in: the nav and the sign-out form. */
  csrf?: string;
}

const NAV: { page: AdminPage; href: string; label: string }[] = [
  { page: 'overview', href: '/admin', label: 'Overview' },
  { page: 'connections', href: '/admin/connections', label: 'Connections' },
  { page: 'issues', href: '/admin/issues', label: 'Issues' },
  { page: 'queues', href: '/admin/queues', label: 'Queues' },
];

export function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
}

/** Every console page: one stylesheet of this module, no script. */
export function layout(title: string, main: string, o: LayoutOptions): string {
  const header = o.csrf
    ? `<header class="top"><span class="brand">PDeck operator console</span>
<nav aria-label="Console"><ul>${NAV.map((n) => `<li><a href="${n.href}"${n.page === o.page ? ' aria-current="page"' : ''}>${n.label}</a></li>`).join('')}</ul></nav>
<form method="post" action="/admin/sign-out">${csrfField(o.csrf)}<button type="submit" class="link">Sign out</button></form>
</header>`
    : `<header class="top"><span class="brand">PDeck operator console</span></header>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${esc(title)} · PDeck operator console</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main">
${main}
</main>
</body>
</html>`;
}

export function messagePage(title: string, message: string, csrf?: string): string {
  return layout(
    title,
    `<h1>${esc(title)}</h1><p>${esc(message)}</p><p><a href="/admin">Back to the overview</a></p>`,
    { page: 'none', csrf },
  );
}

export function signInPage(problem?: string): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>Sign in with one of the service's internal API tokens (<code>INTERNAL_API_TOKENS</code>).
The session lasts 8 hours.</p>
${problem ? `<p class="problem" role="alert">${esc(problem)}</p>` : ''}
<form method="post" action="/admin/sign-in" class="signin">
<p><label for="token">Internal API token</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="1024" autofocus></p>
<button type="submit" class="primary">Sign in</button>
</form>`,
    { page: 'none' },
  );
}

const STATUS_WORDS: Record<string, string> = {
  active: 'active',
  pending: 'pending',
  needs_reauth: 'needs reconnecting',
  disconnected: 'disconnected',
  error: 'error',
};

const HEALTH_WORDS: Record<string, string> = {
  healthy: 'healthy',
  syncing: 'syncing',
  late: 'late',
  failing: 'failing',
  needs_reauth: 'needs reconnecting',
  paused: 'paused',
};

function pct(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)} %`;
}

function countsList(counts: Record<string, number>, words: Record<string, string>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (!entries.length) return '<span class="muted">none</span>';
  return entries.map(([k, n]) => `${n} ${esc(words[k] ?? k)}`).join(', ');
}

export function overviewPage(o: Overview, csrf: string): string {
  const providers = o.providers
    .map(
      (p) => `<tr>
<th scope="row">${esc(p.name)}</th>
<td data-metric="connections:${esc(p.provider)}">${countsList(p.byStatus, STATUS_WORDS)}</td>
<td data-metric="health:${esc(p.provider)}">${countsList(p.byHealth, HEALTH_WORDS)}</td>
<td class="num" data-metric="runs:${esc(p.provider)}">${p.runsFinished}</td>
<td class="num" data-metric="success-rate:${esc(p.provider)}">${pct(p.successRate)}</td>
<td class="num" data-metric="p95:${esc(p.provider)}">${p.p95Seconds === null ? '—' : `${p.p95Seconds.toFixed(1)} s`}</td>
<td data-metric="deliveries:${esc(p.provider)}">${countsList(p.deliveries, {})}</td>
<td class="num" data-metric="rate-limited:${esc(p.provider)}">${p.rateLimitedRuns}</td>
</tr>`,
    )
    .join('\n');
  const delayedSyncs = o.queues.find((q) => q.name === 'sync')?.delayed ?? 0;
  const queues = o.queues
    .map(
      (
        q,
      ) => `<tr><th scope="row"><a href="/admin/queues/queue/${esc(encodeURIComponent(q.name))}">${esc(q.name)}</a></th>
${q.unavailable ? '<td colspan="5" class="problem">Redis did not answer in time</td>' : `<td class="num" data-metric="queue-waiting:${esc(q.name)}">${q.waiting}</td><td class="num">${q.active}</td><td class="num">${q.delayed}</td><td class="num">${q.failed}</td><td>${durationText(q.oldestWaitingSeconds)}</td>`}</tr>`,
    )
    .join('\n');
  const expiring = o.expiring.length
    ? `<div class="table-wrap" tabindex="0" role="region" aria-label="Subscriptions expiring soonest">
<table><thead><tr><th scope="col">Expires</th><th scope="col">Connection</th><th scope="col">Resource</th></tr></thead><tbody>
${o.expiring.map((e) => `<tr><td>${timeText(e.expiresAt)}</td><td><a href="/admin/connections/${esc(e.connectionId)}">${esc(e.provider)}: ${esc(e.account)}</a></td><td>${esc(e.resourceId)}</td></tr>`).join('\n')}
</tbody></table></div>`
    : '<p>No webhook subscription has an expiry.</p>';
  return layout(
    'Overview',
    `<h1>Overview</h1>
<p class="muted">The last 24 hours, from the database and the queues, at ${timeText(new Date())}.</p>
<section aria-labelledby="providers-h">
<h2 id="providers-h">By provider</h2>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="providers-h">
<table>
<thead><tr><th scope="col">Provider</th><th scope="col">Connections</th><th scope="col">Health</th>
<th scope="col" class="num">Sync runs</th><th scope="col" class="num">Success rate</th><th scope="col" class="num">p95 duration</th>
<th scope="col">Webhook deliveries</th><th scope="col" class="num">Runs rate-limited</th></tr></thead>
<tbody>
${providers}
</tbody></table></div>
<p class="muted">Success rate: runs that reached their end (succeeded or partial) over runs that
finished. Sync jobs waiting for a rate limit now: <span data-metric="sync-delayed">${delayedSyncs}</span>.</p>
</section>
<section aria-labelledby="charts-h">
<h2 id="charts-h">Over time</h2>
<div class="charts">
${hourlyChart('runs-chart', 'Sync runs', o.runsByHour, [
  { key: 'succeeded', label: 'reached their end' },
  { key: 'failed', label: 'failed' },
])}
${hourlyChart('deliveries-chart', 'Webhook deliveries', o.deliveriesByHour, [
  { key: 'processed', label: 'processed' },
  { key: 'failed', label: 'failed or unroutable' },
  { key: 'received', label: 'not processed yet' },
])}
</div>
</section>
<section aria-labelledby="queues-h">
<h2 id="queues-h">Queues</h2>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="queues-h">
<table><thead><tr><th scope="col">Queue</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Active</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Failed</th><th scope="col">Oldest waiting job</th></tr></thead>
<tbody>
${queues}
</tbody></table></div>
<p><a href="/admin/queues">Open the queue dashboard</a></p>
</section>
<section aria-labelledby="expiring-h">
<h2 id="expiring-h">Subscriptions expiring soonest</h2>
${expiring}
</section>`,
    { page: 'overview', csrf },
  );
}

function healthCell(status: string, health: ConnectionHealth | null): string {
  if (!health) return esc(STATUS_WORDS[status] ?? status);
  return `${esc(STATUS_WORDS[status] ?? status)}; <strong>${esc(HEALTH_WORDS[health.state])}</strong><br><span class="muted">${esc(health.reason)}</span>`;
}

export interface ConnectionsModel {
  rows: ConnectionRow[];
  more: boolean;
  filter: ConnectionFilter;
  providers: { id: string; name: string }[];
  csrf: string;
}

function option(value: string, label: string, selected: string | undefined): string {
  return `<option value="${esc(value)}"${selected === value ? ' selected' : ''}>${esc(label)}</option>`;
}

export function connectionsPage(m: ConnectionsModel): string {
  const f = m.filter;
  const states = HEALTH_STATES.map((s) => [s, HEALTH_WORDS[s]] as const);
  const query = (page: number) => {
    const q = new URLSearchParams();
    if (f.provider) q.set('provider', f.provider);
    if (f.health) q.set('health', f.health);
    if (f.user) q.set('user', f.user);
    if (f.openIssue !== undefined) q.set('openIssue', f.openIssue ? 'yes' : 'no');
    q.set('page', String(page));
    return `/admin/connections?${esc(q.toString())}`;
  };
  const rows = m.rows.length
    ? m.rows
        .map(
          (r) => `<tr>
<td>${healthCell(r.status, r.health)}</td>
<th scope="row"><a href="/admin/connections/${esc(r.id)}">${esc(r.account)}</a><br><span class="muted">${esc(r.provider)}</span></th>
<td>${esc(r.userId)}</td>
<td>${timeText(r.lastSuccessAt, 'never')}</td>
<td>${timeText(r.nextSyncAt)}</td>
<td class="num">${r.items}</td>
<td>${r.lastError ? esc(describeProblem(r.lastError)) : '<span class="muted">none</span>'}</td>
<td>${timeText(r.subscriptionExpiresAt)}</td>
</tr>`,
        )
        .join('\n')
    : `<tr><td colspan="8">No connection matches these filters.</td></tr>`;
  return layout(
    'Connections',
    `<h1>Connections</h1>
<form method="get" action="/admin/connections" class="filters" aria-label="Filter connections">
<div><label for="f-provider">Provider</label><select id="f-provider" name="provider">${option('', 'any', f.provider ?? '')}${m.providers.map((p) => option(p.id, p.name, f.provider)).join('')}</select></div>
<div><label for="f-health">Health</label><select id="f-health" name="health">${option('', 'any', f.health ?? '')}${states.map(([v, l]) => option(v, l, f.health)).join('')}</select></div>
<div><label for="f-user">User id</label><input id="f-user" name="user" value="${esc(f.user ?? '')}" maxlength="200"></div>
<div><label for="f-issue">Open issue</label><select id="f-issue" name="openIssue">${option('', 'any', f.openIssue === undefined ? '' : undefined)}${option('yes', 'yes', f.openIssue === true ? 'yes' : undefined)}${option('no', 'no', f.openIssue === false ? 'no' : undefined)}</select></div>
<div><button type="submit" class="primary">Filter</button></div>
</form>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="conn-caption">
<table>
<caption id="conn-caption">Connections, newest first (page ${f.page})</caption>
<thead><tr><th scope="col">Status and health</th><th scope="col">Account</th><th scope="col">User</th><th scope="col">Last successful sync</th><th scope="col">Next sync</th><th scope="col" class="num">Items</th><th scope="col">Last error</th><th scope="col">Subscription expiry</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
<nav aria-label="Pages" class="actions">
${f.page > 1 ? `<a class="button" href="${query(f.page - 1)}">Previous page</a>` : ''}
${m.more ? `<a class="button" href="${query(f.page + 1)}">Next page</a>` : ''}
</nav>`,
    { page: 'connections', csrf: m.csrf },
  );
}

type Detail = NonNullable<Awaited<ReturnType<AdminDataService['connection']>>>;

const ACTION_WORDS: Record<string, string> = {
  sync_now: 'Sync now',
  full_resync: 'Full resync',
  pause: 'Paused the schedule',
  resume: 'Resumed the schedule',
  disconnect: 'Disconnected',
  issue_mute: 'Muted an issue',
  issue_unmute: 'Unmuted an issue',
};

export interface DetailModel {
  c: Detail;
  audit: AuditRow[];
  csrf: string;
  notice?: string;
}

function actionForm(id: string, action: string, label: string, csrf: string, cls = ''): string {
  return `<form method="post" action="/admin/connections/${esc(id)}/${action}">${csrfField(csrf)}
<button type="submit"${cls ? ` class="${cls}"` : ''}>${esc(label)}</button></form>`;
}

function table(label: string, head: string[], rows: string[], empty: string): string {
  if (!rows.length) return `<p>${esc(empty)}</p>`;
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="${esc(label)}">
<table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

export function connectionPage(m: DetailModel): string {
  const c = m.c;
  const active = c.status === 'active';
  const paused = c.health?.state === 'paused';
  const actions = [
    active ? actionForm(c.id, 'sync', 'Sync now', m.csrf, 'primary') : '',
    active ? actionForm(c.id, 'full-resync', 'Full resync', m.csrf) : '',
    active && !paused ? actionForm(c.id, 'pause', 'Pause schedule', m.csrf) : '',
    paused && c.status !== 'disconnected'
      ? actionForm(c.id, 'resume', 'Resume schedule', m.csrf)
      : '',
    c.status !== 'disconnected'
      ? `<a class="button danger-link" href="/admin/connections/${esc(c.id)}/disconnect">Disconnect…</a>`
      : '',
  ].filter(Boolean);
  const runs = c.runs.map(
    (r) => `<tr><td>${timeText(r.created_at)}</td><td>${esc(r.mode)}</td><td>${esc(r.trigger)}</td>
<td data-run-status="${esc(r.status)}">${esc(r.status)}${r.error_code ? `<br><span class="problem">${esc(describeProblem(r.error_code))}</span>` : ''}</td>
<td>${r.started_at && r.finished_at ? durationText((new Date(r.finished_at).getTime() - new Date(r.started_at).getTime()) / 1000) : '—'}</td>
<td class="num">${r.fetched}</td><td class="num">${r.upserted}</td><td class="num">${r.deleted}</td><td class="num">${r.unchanged}</td>
<td>${r.resources.length ? `<ul>${r.resources.map((x) => `<li>${esc(x.resourceName || x.resourceId)}: ${esc(x.outcome)}${x.errorCode ? ` (${esc(describeProblem(x.errorCode))})` : ''}</li>`).join('')}</ul>` : '—'}</td></tr>`,
  );
  const resources = c.resources.map(
    (
      r,
    ) => `<tr><th scope="row">${esc(r.resource_name ?? r.resource_id)}</th><td>${esc(r.stage)}</td><td>${esc(r.status)}${r.last_error ? `<br><span class="problem">${esc(describeProblem(r.last_error))}</span>` : ''}</td>
<td>${r.has_cursor ? esc(ageText(r.updated_at)) : 'no cursor yet'}</td><td>${timeText(r.last_success_at, 'never')}</td></tr>`,
  );
  const subs = c.subscriptions.map(
    (s) =>
      `<tr><th scope="row">${esc(s.resource_id)}</th><td>${esc(s.status)}</td><td>${timeText(s.expires_at, 'no expiry')}</td><td>${timeText(s.created_at)}</td></tr>`,
  );
  const deliveries = c.deliveries.map(
    (d) =>
      `<tr><td>${timeText(d.received_at)}</td><td>${esc(d.provider)}</td><td>${esc(d.status)}</td><td class="num">${d.attempts}</td><td>${d.error ? esc(d.error.slice(0, 200)) : '—'}</td></tr>`,
  );
  const issues = table(
    'Issues',
    ['Type', 'Status', 'First seen', 'Last seen', 'Count', 'Last error'],
    c.issues.map(
      (i) =>
        `<tr><td>${esc(i.type)}</td><td>${esc(i.status)}${i.muted ? ' (muted)' : ''}</td><td>${timeText(i.firstSeenAt)}</td><td>${timeText(i.lastSeenAt)}</td><td class="num">${i.count}</td><td>${esc(i.lastError ?? '—')}</td></tr>`,
    ),
    'No issues.',
  );
  const audit = m.audit.map(
    (a) =>
      `<tr><td>${timeText(a.at)}</td><td data-audit-action="${esc(a.action)}">${esc(ACTION_WORDS[a.action] ?? a.action)}</td><td><code>${esc(a.tokenId)}</code></td><td>${esc(auditDetail(a.detail))}</td></tr>`,
  );
  return layout(
    `${c.providerName}: ${c.account}`,
    `<p><a href="/admin/connections">All connections</a></p>
<h1>${esc(c.providerName)}: ${esc(c.account)}</h1>
${m.notice ? `<p class="notice" role="status">${esc(m.notice)}</p>` : ''}
<dl>
<dt>Connection id</dt><dd><code>${esc(c.id)}</code></dd>
<dt>User</dt><dd>${esc(c.userId)}</dd>
<dt>Status</dt><dd data-field="status">${esc(STATUS_WORDS[c.status] ?? c.status)}</dd>
${c.health ? `<dt>Health</dt><dd data-field="health">${esc(HEALTH_WORDS[c.health.state])}: ${esc(c.health.reason)}</dd>` : ''}
<dt>Last error</dt><dd>${c.lastError ? esc(describeProblem(c.lastError)) : 'none'}</dd>
<dt>Items</dt><dd>${c.items}</dd>
<dt>Next sync</dt><dd>${timeText(c.nextSyncAt)}</dd>
<dt>Connected</dt><dd>${timeText(c.createdAt)}</dd>
</dl>
<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2>
${actions.length ? `<div class="actions">${actions.join('\n')}</div>` : '<p>No action is available for a disconnected connection.</p>'}
</section>
<section aria-labelledby="runs-h"><h2 id="runs-h">Sync runs</h2>
${table('Sync runs', ['Requested', 'Mode', 'Trigger', 'Outcome', 'Duration', 'Fetched', 'Upserted', 'Deleted', 'Unchanged', 'Resources'], runs, 'No sync runs yet.')}
</section>
<section aria-labelledby="resources-h"><h2 id="resources-h">Resources</h2>
${table('Resources', ['Resource', 'Stage', 'Status', 'Cursor written', 'Last success'], resources, 'No resources synced yet.')}
</section>
<section aria-labelledby="subs-h"><h2 id="subs-h">Webhook subscriptions</h2>
${table('Webhook subscriptions', ['Resource', 'Status', 'Expires', 'Created'], subs, 'No webhook subscriptions.')}
</section>
<section aria-labelledby="issues-h"><h2 id="issues-h">Issues</h2>
${issues}
</section>
<section aria-labelledby="deliveries-h"><h2 id="deliveries-h">Recent webhook deliveries</h2>
${table('Recent webhook deliveries', ['Received', 'Provider', 'Status', 'Attempts', 'Error'], deliveries, 'No deliveries routed to this connection.')}
</section>
<section aria-labelledby="audit-h"><h2 id="audit-h">Audit log</h2>
${table('Audit log', ['When', 'Action', 'Token id', 'Detail'], audit, 'No console action on this connection yet.')}
</section>`,
    { page: 'connections', csrf: m.csrf },
  );
}

function auditDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

export function disconnectPage(c: Detail, csrf: string): string {
  return layout(
    'Disconnect',
    `<h1>Disconnect ${esc(c.providerName)}: ${esc(c.account)}?</h1>
<p>The connection of user <strong>${esc(c.userId)}</strong> stops syncing: its schedule and webhook
subscriptions are removed, the grant is revoked at ${esc(c.providerName)} where it allows it, and
the stored tokens are wiped. Items already synced stay. PDeck is told (<code>connection.deleted</code>).
The user can connect again later.</p>
<div class="actions">
<form method="post" action="/admin/connections/${esc(c.id)}/disconnect">${csrfField(csrf)}
<input type="hidden" name="confirmed" value="yes">
<button type="submit" class="danger">Yes, disconnect</button>
</form>
<a class="button" href="/admin/connections/${esc(c.id)}">Cancel</a>
</div>`,
    { page: 'connections', csrf },
  );
}

export interface IssuesModel {
  issues: ConnectionIssue[];
  status: 'open' | 'resolved';
  csrf: string;
  nextCursor: string | null;
}

export function issuesPage(m: IssuesModel): string {
  const rows = m.issues.map(
    (
      i,
    ) => `<tr><th scope="row"><a href="/admin/connections/${esc(i.connectionId)}">${esc(i.provider)}: ${esc(i.connectionId.slice(0, 8))}</a></th>
<td>${esc(i.type)}</td><td>${esc(i.status)}${i.muted ? ' (muted)' : ''}</td><td>${esc(i.userId)}</td>
<td>${timeText(i.firstSeenAt)}</td><td>${timeText(i.lastSeenAt)}</td><td class="num">${i.count}</td><td>${esc(i.lastError ?? '—')}</td>
<td><form method="post" action="/admin/issues/${esc(i.id)}/${i.muted ? 'unmute' : 'mute'}">${csrfField(m.csrf)}<button type="submit">${i.muted ? 'Unmute' : 'Mute'}<span class="vh"> ${esc(i.type)} of ${esc(i.connectionId)}</span></button></form></td></tr>`,
  );
  return layout(
    'Issues',
    `<h1>Issues</h1>
<form method="get" action="/admin/issues" class="filters" aria-label="Filter issues">
<div><label for="i-status">Status</label><select id="i-status" name="status">${option('open', 'open', m.status)}${option('resolved', 'resolved', m.status)}</select></div>
<div><button type="submit" class="primary">Show</button></div>
</form>
${table('Issues', ['Connection', 'Type', 'Status', 'User', 'First seen', 'Last seen', 'Count', 'Last error', 'Action'], rows, `No ${m.status} issues.`)}
${m.nextCursor ? `<p><a class="button" href="/admin/issues?status=${esc(m.status)}&amp;cursor=${esc(encodeURIComponent(m.nextCursor))}">Next page</a></p>` : ''}`,
    { page: 'issues', csrf: m.csrf },
  );
}
