// The demo's stand-in for PDeck: a page for the seeded user (items feed, the merged view,
// connections, "Manage integrations" opening the service's Connect UI in a popup) and the few
// backend routes PDeck needs for it. The backend holds the internal API token, as PDeck's backend does; the browser
// only ever talks to this server and to the Connect UI.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const PUBLIC = new URL('./public/', import.meta.url);
const ASSETS = {
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What the page shows of each kind: the newest, enough for a glance. */
const ITEMS_PER_KIND = 25;
/** Merged entries with two sources or more the page shows: the most recently changed. */
const MERGED_SHOWN = 25;

// Only this server's files: no inline script or style, no framing, no other origin fetched.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * @param {object} options
 * @param {string} options.pdeckUrl this server's origin (where the browser opens it)
 * @param {string} options.publicUrl the service's public URL (its origin posts the results)
 * @param {string} options.userId the signed-in user
 * @param {(method: string, path: string, body?: unknown) => Promise<{status: number, body: any}>} options.callService
 *   one call to the service's internal API with the bearer token
 */
export function createPdeckStandIn({ pdeckUrl, publicUrl, userId, callService }) {
  const serviceOrigin = new URL(publicUrl).origin;
  const feed = new ItemsFeed(userId, callService);
  const merged = new MergedFeed(userId, callService);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', pdeckUrl);
    const route = `${req.method} ${url.pathname}`;
    const html = (status, title, body) => sendPage(res, status, title, body);
    let handled;
    if (route === 'GET /') handled = page(res, serviceOrigin, userId);
    else if (req.method === 'GET' && ASSETS[url.pathname]) handled = asset(res, url.pathname);
    else if (route === 'POST /connect-session') handled = connectSession(req, res);
    else if (route === 'POST /confirm') handled = confirmFromPopup(req, res);
    else if (route === 'GET /items')
      handled = feed.grouped().then((body) => sendJson(res, 200, body));
    else if (route === 'GET /merged')
      handled = merged.view().then((body) => sendJson(res, 200, body));
    else if (route === 'GET /connections') handled = connections(res);
    else if (route === 'GET /connected') handled = connected(url, html);
    else if (route === 'POST /choose-site') handled = chooseSite(req, html);
    else if (
      [
        '/',
        '/connect-session',
        '/confirm',
        '/items',
        '/merged',
        '/connections',
        '/connected',
        '/choose-site',
      ].includes(url.pathname)
    ) {
      return void res.writeHead(405, SECURITY_HEADERS).end();
    } else return void res.writeHead(404, SECURITY_HEADERS).end();
    handled.catch((error) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof InputError) return sendJson(res, error.status, { error: error.message });
      sendJson(res, 502, { error: `The integration service did not answer: ${error.message}` });
    });
  });

  /** POST /connect-session: a one-time Connect UI link for the signed-in user. */
  async function connectSession(req, res) {
    await readJson(req, 1024); // nothing to read, but only a same-origin fetch may ask
    const { status, body } = await callService('POST', '/v1/connect-sessions', {
      userId,
      returnTo: `${pdeckUrl}/connected`,
    });
    if (status !== 201 || typeof body?.url !== 'string') {
      return sendJson(res, 502, {
        error: `The service refused a connect session (${status} ${body?.error ?? ''})`.trim(),
      });
    }
    sendJson(res, 200, { url: body.url, expiresAt: body.expiresAt });
  }

  /**
   * POST /confirm {connectionId, confirm}: what the page got from the popup. The backend, which
   * knows its signed-in user, confirms the grant for that user; another user's grant is refused
   * by the service (and revoked).
   */
  async function confirmFromPopup(req, res) {
    const input = await readJson(req, 4096);
    const connectionId = input?.connectionId;
    const confirm = input?.confirm;
    if (typeof connectionId !== 'string' || !UUID.test(connectionId)) {
      throw new InputError(400, 'connectionId must be a connection id (UUID)');
    }
    if (typeof confirm !== 'string' || confirm.length < 1 || confirm.length > 512) {
      throw new InputError(400, 'confirm must be the one-time token the popup posted');
    }
    const { status, body } = await callService('POST', `/v1/connections/${connectionId}/confirm`, {
      userId,
      token: confirm,
    });
    if (status !== 200) {
      return sendJson(res, 200, { confirmed: false, status, error: body?.error ?? null });
    }
    sendJson(res, 200, { confirmed: true, connection: publicConnection(body) });
  }

  async function connections(res) {
    const { status, body } = await callService(
      'GET',
      `/v1/connections?userId=${encodeURIComponent(userId)}`,
    );
    if (status !== 200 || !Array.isArray(body)) {
      return sendJson(res, 502, { error: `The service did not list connections (${status})` });
    }
    sendJson(res, 200, body.map(publicConnection));
  }

  /**
   * GET /connected: where the browser lands when the Connect UI (or the API flow) runs without
   * a window opener: the same confirmation as /confirm, as a page. A Jira grant that reaches
   * several sites is then still pending: the page lists the sites as a form that POSTs the
   * choice to /choose-site, which sets it server-side.
   */
  async function connected(url, send) {
    const error = url.searchParams.get('error');
    if (error) {
      return send(
        200,
        'Not connected',
        `<p>The provider or the service said: ${escapeHtml(error)}.</p>${back}`,
      );
    }
    const id = url.searchParams.get('connectionId') ?? '';
    if (!UUID.test(id))
      return send(400, 'Not connected', `<p>The link has no connection id.</p>${back}`);
    const { status, body } = await callService('POST', `/v1/connections/${id}/confirm`, {
      userId,
      token: url.searchParams.get('confirm') ?? '',
    });
    if (status !== 200) {
      return send(
        200,
        'Not connected',
        `<p>Confirmation refused (${status} ${escapeHtml(body?.error ?? '')}).</p>${back}`,
      );
    }
    if (body.status === 'pending' && body.pendingReason === 'site_required') {
      return siteForm(id, body, send);
    }
    send(200, 'Connected', connectedText(body));
  }

  /** The sites of a `site_required` connection as a radio group; the choice is POSTed here. */
  async function siteForm(id, connection, send) {
    const { status, body } = await callService('GET', `/v1/connections/${id}/sites`);
    if (status !== 200 || !Array.isArray(body)) {
      return send(
        200,
        'Choose a site',
        `<p>The sites could not be listed (${status} ${escapeHtml(body?.error ?? '')}).</p>${back}`,
      );
    }
    const options = body
      .map(
        (site, i) =>
          `<div><input type="radio" name="cloudId" id="site-${i}" value="${escapeHtml(site.id)}" required${i === 0 ? ' checked' : ''}>` +
          ` <label for="site-${i}">${escapeHtml(site.name)}${site.url ? ` (${escapeHtml(site.url)})` : ''}</label></div>`,
      )
      .join('');
    send(
      200,
      'Choose a site',
      `<p>${escapeHtml(connection.provider)} account ${escapeHtml(connection.accountLabel ?? connection.accountId)} ` +
        `reaches several sites; a connection syncs one. Pick the site to sync.</p>` +
        `<form method="post" action="/choose-site">` +
        `<input type="hidden" name="connectionId" value="${escapeHtml(id)}">` +
        `<fieldset><legend>Site to sync</legend>${options}</fieldset>` +
        `<p><button type="submit">Sync this site</button></p></form>`,
    );
  }

  async function chooseSite(req, send) {
    const form = new URLSearchParams(await readBody(req, 4096));
    const id = form.get('connectionId') ?? '';
    const cloudId = form.get('cloudId') ?? '';
    if (!UUID.test(id) || !cloudId || cloudId.length > 200) {
      return send(400, 'Site not chosen', `<p>The form needs a connection and a site.</p>${back}`);
    }
    // The stand-in acts for its user only: another user's connection is not its to change.
    const current = await callService('GET', `/v1/connections/${id}`);
    if (current.status !== 200 || current.body?.userId !== userId) {
      return send(404, 'Site not chosen', `<p>No such connection for this user.</p>${back}`);
    }
    const { status, body } = await callService('PUT', `/v1/connections/${id}/site`, { cloudId });
    if (status !== 200) {
      const message = Array.isArray(body?.message)
        ? body.message.join('; ')
        : (body?.message ?? '');
      return send(
        200,
        'Site not chosen',
        `<p>The service refused the choice (${status} ${escapeHtml(body?.error ?? '')}): ${escapeHtml(message)}</p>${back}`,
      );
    }
    send(200, 'Connected', connectedText(body));
  }

  return server;
}

const back = '<p><a href="/">Back to PDeck</a></p>';

function connectedText(connection) {
  return (
    `<p>${escapeHtml(connection.provider)} account ${escapeHtml(connection.accountLabel ?? connection.accountId)} ` +
    `is now ${escapeHtml(connection.status)}; its first sync has started.</p>${back}`
  );
}

/** What the page may see of a connection: no scopes, errors in words only, never a token. */
function publicConnection(c) {
  return {
    id: c.id,
    provider: c.provider,
    accountLabel: c.accountLabel ?? c.accountId,
    status: c.status,
    pendingReason: c.pendingReason ?? null,
    lastError: c.lastError ?? null,
  };
}

/**
 * A copy of one of the service's feeds kept current as PDeck's backend would: a cursor, each page
 * applied in order (a tombstone removes its entry), one reader at a time. `list` names the page's
 * array (`items`, or `entries` with merged=true).
 */
class FeedMirror {
  constructor(userId, callService, { merged = false } = {}) {
    this.userId = userId;
    this.callService = callService;
    this.merged = merged;
    this.cursor = undefined;
    this.rows = new Map();
    this.reading = Promise.resolve();
  }

  /** Reads every change since the last call (pages until hasMore is false). */
  catchUp() {
    const list = this.merged ? 'entries' : 'items';
    this.reading = this.reading
      .catch(() => undefined)
      .then(async () => {
        for (let pages = 0; pages < 50; pages += 1) {
          const query = new URLSearchParams({ userId: this.userId, limit: '500' });
          if (this.merged) query.set('merged', 'true');
          if (this.cursor) query.set('cursor', this.cursor);
          const { status, body } = await this.callService('GET', `/v1/items?${query}`);
          if (status !== 200 || !Array.isArray(body?.[list])) {
            throw new Error(
              `the ${this.merged ? 'merged view' : 'changes feed'} answered ${status}`,
            );
          }
          for (const row of body[list]) {
            if (row.deletedAt) this.rows.delete(row.id);
            else this.rows.set(row.id, row);
          }
          if (body.nextCursor) this.cursor = body.nextCursor;
          if (!body.hasMore) return;
        }
      });
    return this.reading;
  }
}

/** The user's items from the changes feed, grouped by kind for the page. */
class ItemsFeed {
  constructor(userId, callService) {
    this.mirror = new FeedMirror(userId, callService);
  }

  get items() {
    return this.mirror.rows;
  }

  catchUp() {
    return this.mirror.catchUp();
  }

  /** `{events, tasks, messages}`, newest first, each item as the page shows it. */
  async grouped() {
    await this.catchUp();
    const groups = { event: [], task: [], message: [] };
    for (const item of this.items.values()) groups[item.kind]?.push(item);
    // Events and tasks: what comes next first (soonest upcoming, then the most recent past);
    // messages: newest first.
    const now = new Date().toISOString();
    const upcomingFirst = (a, b) => {
      const [x, y] = [a.time ?? '', b.time ?? ''];
      if (x >= now !== y >= now) return x >= now ? -1 : 1;
      return x >= now ? x.localeCompare(y) : y.localeCompare(x);
    };
    const newestFirst = (a, b) => String(b.time ?? '').localeCompare(String(a.time ?? ''));
    const view = (list, when, order) =>
      list
        .map((item) => ({ ...shown(item), time: when(item) }))
        .sort(order)
        .slice(0, ITEMS_PER_KIND);
    return {
      events: view(groups.event, (i) => i.startsAt ?? i.externalUpdatedAt, upcomingFirst),
      tasks: view(groups.task, (i) => i.dueAt ?? i.externalUpdatedAt, upcomingFirst),
      messages: view(groups.message, (i) => i.externalUpdatedAt ?? i.updatedAt, newestFirst),
      counts: {
        events: groups.event.length,
        tasks: groups.task.length,
        messages: groups.message.length,
      },
    };
  }
}

/**
 * The merged view (GET /v1/items?merged=true): entries with two sources or more, each with its
 * sources and where its title, status and dates come from. Single items are in the items list.
 */
class MergedFeed {
  constructor(userId, callService) {
    this.mirror = new FeedMirror(userId, callService, { merged: true });
  }

  async view() {
    await this.mirror.catchUp();
    const groups = [...this.mirror.rows.values()].filter((e) => e.members?.length > 1);
    const newestFirst = (a, b) => {
      const [x, y] = [BigInt(a.changeSeq), BigInt(b.changeSeq)];
      return x === y ? 0 : x > y ? -1 : 1;
    };
    return {
      entries: groups.sort(newestFirst).slice(0, MERGED_SHOWN).map(shownEntry),
      count: groups.length,
    };
  }
}

/** What the page shows of a merged entry: values with their provenance, sources, conflicts. */
function shownEntry(entry) {
  const field = (name) => {
    const f = entry.fields?.[name];
    return f?.source ? { value: f.value, provider: f.source.provider, reason: f.reason } : null;
  };
  return {
    id: entry.id,
    kind: entry.kind,
    title: field('title'),
    status: field('status'),
    dueAt: field('dueAt'),
    startsAt: field('startsAt'),
    allDay: entry.fields?.allDay?.value ?? false,
    sources: entry.members.map((m) => ({ provider: m.provider, kind: m.kind })),
    conflicts: (entry.conflicts ?? []).map((c) => c.field),
  };
}

function shown(item) {
  return {
    id: item.id,
    title: item.title || '(untitled)',
    provider: item.provider,
    container: item.container?.name ?? null,
    author: item.author ?? null,
    allDay: item.allDay ?? false,
    url: item.url ?? null,
  };
}

async function page(res, serviceOrigin, userId) {
  const template = await readFile(new URL('index.html', PUBLIC), 'utf8');
  const body = template
    .replaceAll('{{serviceOrigin}}', escapeHtml(serviceOrigin))
    .replaceAll('{{userId}}', escapeHtml(userId));
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(body);
}

async function asset(res, path) {
  const { file, type } = ASSETS[path];
  const body = await readFile(new URL(file, PUBLIC));
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type }).end(body);
}

function sendPage(res, status, title, html) {
  res
    .writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' })
    .end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)} · PDeck (demo)</title><link rel="stylesheet" href="/app.css"></head>` +
        `<body><main id="main"><h1>${escapeHtml(title)}</h1>${html}</main></body></html>`,
    );
}

function sendJson(res, status, body) {
  res
    .writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}

class InputError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * A JSON body, or an InputError. Only `application/json` is taken: a page on another origin
 * cannot send that without a CORS preflight, which this server never grants.
 */
async function readJson(req, limit) {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new InputError(415, 'send application/json');
  }
  const text = await readBody(req, limit).catch(() => {
    throw new InputError(413, `the body must stay under ${limit} bytes`);
  });
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(400, 'the body is not JSON');
  }
}

/** The request body as text, refused beyond `limit` bytes. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
