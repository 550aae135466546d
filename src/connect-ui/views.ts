import type { SiteView } from '../auth/site-choice.service.js';
import type { ConnectionView, ConnectPageState, IntegrationView } from './connect-view.service.js';
import { countsInWords, kindsInWords } from './status-words.js';

/** Escapes text and attribute values (all five characters, so either quote style is safe). */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A time people read: "6 Dec 2026, 04:10 UTC" in a <time> element with the exact value. */
export function timeText(iso: string | null, none: string): string {
  if (!iso) return esc(none);
  const text = `${DATE_FORMAT.format(new Date(iso))} UTC`;
  return `<time datetime="${esc(iso)}">${esc(text)}</time>`;
}

const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

interface LayoutOptions {
  /** Which behaviour of connect.js the page wants (data-page on <body>). */
  page?: 'connect' | 'done' | 'plain';
  /** The session's returnTo origin, for relaying results to a framing PDeck page. */
  targetOrigin?: string;
}

/** Every Connect UI page: one stylesheet and one script, both files of this module. */
export function layout(title: string, main: string, options: LayoutOptions = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)} · PDeck integrations</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
<script src="/connect/assets/connect.js" defer></script>
</head>
<body data-page="${esc(options.page ?? 'plain')}"${options.targetOrigin ? ` data-target-origin="${esc(options.targetOrigin)}"` : ''}>
<main id="main">
${main}
</main>
</body>
</html>`;
}

/** A page that only says what happened and what to do (errors, expired links, refusals). */
export function messagePage(title: string, message: string, next?: string): string {
  return layout(
    title,
    `<h1>${esc(title)}</h1>
<p>${esc(message)}</p>
${next ? `<p>${next}</p>` : ''}`,
  );
}

export interface ConnectPageModel {
  state: ConnectPageState;
  csrf: string;
  /** Connecting needs a returnTo to hand results to; without one, Connect is not offered. */
  canConnect: boolean;
  notice?: string;
  /** Sites of connections waiting for a site choice, by connection id. */
  sites: Map<string, SiteView[] | { error: string }>;
  targetOrigin?: string;
}

export function connectPage(m: ConnectPageModel): string {
  const connections = m.state.connections.length
    ? `<ul class="cards">${m.state.connections.map((c) => connectionCard(c, m)).join('\n')}</ul>`
    : '<p>No accounts are connected yet.</p>';
  const integrations = m.state.integrations.length
    ? `<ul class="cards">${m.state.integrations.map((i) => integrationCard(i, m)).join('\n')}</ul>`
    : '<p>No integrations are available.</p>';
  const connectNote = m.canConnect
    ? ''
    : '<p class="note">To connect a new account, open this page from PDeck’s settings.</p>';
  return layout(
    'Your integrations',
    `<h1>Your integrations</h1>
<p id="notice" class="notice" role="status" aria-live="polite">${esc(m.notice ?? '')}</p>
<section aria-labelledby="accounts-heading">
<h2 id="accounts-heading">Connected accounts</h2>
${connections}
</section>
<section aria-labelledby="add-heading">
<h2 id="add-heading">Add an account</h2>
${connectNote}
${integrations}
</section>`,
    { page: 'connect', targetOrigin: m.targetOrigin },
  );
}

function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
}

function connectionCard(c: ConnectionView, m: ConnectPageModel): string {
  const who = `${c.providerName}, ${c.accountLabel}`;
  const hidden = `<span class="vh"> ${esc(who)}</span>`;
  const actions: string[] = [];
  if (c.state === 'connected' || c.state === 'syncing' || c.state === 'failing') {
    actions.push(`<form method="post" action="/connect/connections/${esc(c.id)}/sync">${csrfField(m.csrf)}
<button type="submit" class="primary">Sync now${hidden}</button></form>`);
  }
  if (c.state === 'needs_reconnect' && m.canConnect) {
    actions.push(`<form method="post" action="/connect/${esc(c.provider)}/start" data-consent>${csrfField(m.csrf)}
<button type="submit" class="primary">Reconnect${hidden}</button></form>`);
  }
  if (c.state !== 'awaiting_confirmation') {
    actions.push(`<form method="get" action="/connect/connections/${esc(c.id)}/disconnect">
<button type="submit" class="danger">Disconnect…${hidden}</button></form>`);
  }
  const picker = c.state === 'choose_site' ? sitePicker(c, m) : '';
  return `<li class="card" data-connection-id="${esc(c.id)}" data-state="${esc(c.state)}">
<h3>${esc(c.providerName)}: ${esc(c.accountLabel)}</h3>
<p class="status status-${esc(c.state)}" data-field="status" aria-live="polite">${esc(c.statusText)}</p>
<dl>
<dt>Last synced</dt><dd data-field="lastSyncedAt">${timeText(c.lastSyncedAt, 'not yet')}</dd>
<dt>Next sync</dt><dd data-field="nextSyncAt">${timeText(c.nextSyncAt, c.state === 'connected' || c.state === 'syncing' ? 'not scheduled yet' : '—')}</dd>
<dt>Items</dt><dd data-field="counts">${esc(countsInWords(c.counts))}</dd>
</dl>
${picker}
${actions.length ? `<div class="actions">${actions.join('\n')}</div>` : ''}
</li>`;
}

function sitePicker(c: ConnectionView, m: ConnectPageModel): string {
  const sites = m.sites.get(c.id);
  if (!sites) return '';
  if ('error' in sites) return `<p class="problem">${esc(sites.error)}</p>`;
  const options = sites
    .map(
      (
        s,
        i,
      ) => `<div class="choice"><input type="radio" id="site-${esc(c.id)}-${i}" name="cloudId" value="${esc(s.id)}"${i === 0 ? ' required' : ''}>
<label for="site-${esc(c.id)}-${i}">${esc(s.name)}${s.url ? ` <span class="muted">(${esc(s.url)})</span>` : ''}</label></div>`,
    )
    .join('\n');
  return `<form method="post" action="/connect/connections/${esc(c.id)}/site" class="site-picker">${csrfField(m.csrf)}
<fieldset><legend>Which site should ${esc(c.accountLabel)} sync?</legend>
${options}
</fieldset>
<button type="submit" class="primary">Use this site</button>
</form>`;
}

function integrationCard(i: IntegrationView, m: ConnectPageModel): string {
  const action = m.canConnect
    ? `<form method="post" action="/connect/${esc(i.id)}/start" data-consent>${csrfField(m.csrf)}
<button type="submit" class="primary">Connect ${esc(i.name)}</button></form>`
    : '';
  return `<li class="card">
<h3>${esc(i.name)}</h3>
<p>Syncs your ${esc(kindsInWords(i.kinds))} into PDeck.</p>
${action}
</li>`;
}

export function disconnectPage(c: ConnectionView, csrf: string): string {
  return layout(
    'Disconnect',
    `<h1>Disconnect ${esc(c.providerName)}?</h1>
<p>PDeck stops syncing <strong>${esc(c.accountLabel)}</strong>, and the access it was given is
revoked at ${esc(c.providerName)} where ${esc(c.providerName)} allows it. Items already in PDeck stay.</p>
<div class="actions">
<form method="post" action="/connect/connections/${esc(c.id)}/disconnect">${csrfField(csrf)}
<input type="hidden" name="confirmed" value="yes">
<button type="submit" class="danger">Yes, disconnect ${esc(c.accountLabel)}</button>
</form>
<a class="button" href="/connect">Cancel</a>
</div>`,
  );
}

export type DoneModel =
  | {
      kind: 'result';
      connectionId: string;
      confirm: string;
      provider: string;
      providerName: string;
      targetOrigin: string;
      continueUrl: string;
    }
  | { kind: 'error'; error: string; message: string; targetOrigin: string; continueUrl: string };

/**
 * Where a consent started from the Connect UI lands. connect.js posts the result to the
 * opener (PDeck's page, on the session's returnTo origin), or without an opener goes on to
 * returnTo like the API flow. Without script the link does the latter.
 */
export function donePage(m: DoneModel): string {
  const data =
    m.kind === 'result'
      ? `data-kind="result" data-connection-id="${esc(m.connectionId)}" data-confirm="${esc(m.confirm)}" data-provider="${esc(m.provider)}"`
      : `data-kind="error" data-error="${esc(m.error)}"`;
  const heading =
    m.kind === 'result' ? `${m.providerName} is almost connected` : 'Connecting did not finish';
  const text =
    m.kind === 'result'
      ? 'Handing the new connection to PDeck…'
      : `${m.message} Handing this to PDeck…`;
  return layout(
    heading,
    `<h1>${esc(heading)}</h1>
<div id="handover" hidden ${data} data-target-origin="${esc(m.targetOrigin)}" data-continue-url="${esc(m.continueUrl)}"></div>
<p id="done-status" role="status" aria-live="polite">${esc(text)}</p>
<p id="continue"><a href="${esc(m.continueUrl)}">Continue to PDeck</a></p>
<p><a href="/connect">Back to your integrations</a></p>`,
    { page: 'done' },
  );
}
