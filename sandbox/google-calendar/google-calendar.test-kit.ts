import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GoogleCalendarFake } from './google-calendar.fake.js';

/**
 * Client-side helpers for tests against the fake: the OAuth dance without a browser, API
 * calls, full listings, and a local push receiver. Plain fetch, no service code involved.
 */
export const CALENDAR_READONLY = 'https://www.googleapis.com/auth/calendar.readonly';
export const REDIRECT_URI = 'http://127.0.0.1:3000/v1/oauth/google-calendar/callback';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeParams {
  account?: string;
  scope?: string;
  redirectUri?: string;
  challenge?: string;
  accessType?: 'offline' | 'online';
  prompt?: string;
  state?: string;
  auto?: 'allow' | 'deny';
}

/** Builds the authorize URL the service would hand to a browser. */
export function authorizeUrl(fake: GoogleCalendarFake, p: AuthorizeParams = {}): URL {
  const url = new URL('/o/oauth2/v2/auth', fake.url);
  const q = url.searchParams;
  q.set('client_id', fake.clients[0].clientId);
  q.set('redirect_uri', p.redirectUri ?? REDIRECT_URI);
  q.set('response_type', 'code');
  q.set('scope', p.scope ?? CALENDAR_READONLY);
  q.set('access_type', p.accessType ?? 'offline');
  if (p.prompt) q.set('prompt', p.prompt);
  q.set('state', p.state ?? 'state-123');
  if (p.challenge) {
    q.set('code_challenge', p.challenge);
    q.set('code_challenge_method', 'S256');
  }
  if (p.auto) q.set('auto', p.auto);
  if (p.account) q.set('account', p.account);
  return url;
}

/** Follows the authorize URL non-interactively (`auto=allow`) and returns the callback URL. */
export async function authorize(fake: GoogleCalendarFake, p: AuthorizeParams = {}): Promise<URL> {
  const res = await fetch(authorizeUrl(fake, { auto: 'allow', ...p }), { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location')!);
}

export async function tokenRequest(
  fake: GoogleCalendarFake,
  fields: Record<string, string>,
): Promise<Response> {
  const body = new URLSearchParams({
    client_id: fake.clients[0].clientId,
    client_secret: fake.clients[0].clientSecret,
    ...fields,
  });
  return fetch(`${fake.url}/token`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** Authorize + code exchange with PKCE; returns Google's token response. */
export async function connect(
  fake: GoogleCalendarFake,
  account = 'alice@example.com',
  scope = CALENDAR_READONLY,
) {
  const { verifier, challenge } = pkcePair();
  const callback = await authorize(fake, { account, scope, challenge, prompt: 'consent' });
  const res = await tokenRequest(fake, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code')!,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  return (await res.json()) as {
    access_token: string;
    refresh_token?: string;
    expires_in: number;
    scope: string;
    token_type: string;
  };
}

export function api(
  fake: GoogleCalendarFake,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = {
    authorization: `Bearer ${token}`,
    ...(init.body ? { 'content-type': 'application/json' } : {}),
  };
  return fetch(`${fake.url}/calendar/v3${path}`, {
    ...init,
    headers: { ...headers, ...init.headers },
  });
}

export interface EventsPage {
  items: Array<Record<string, unknown> & { id: string; status: string }>;
  nextPageToken?: string;
  nextSyncToken?: string;
}

/** Follows nextPageToken to the end, as a sync engine does; returns items, page count and token. */
export async function listAll(
  fake: GoogleCalendarFake,
  token: string,
  calendarId: string,
  params: Record<string, string> = {},
) {
  const items: EventsPage['items'] = [];
  const pages: EventsPage[] = [];
  let pageToken: string | undefined;
  do {
    const q = new URLSearchParams(params);
    if (pageToken) q.set('pageToken', pageToken);
    const res = await api(fake, token, `/calendars/${encodeURIComponent(calendarId)}/events?${q}`);
    if (res.status !== 200) throw new Error(`events.list ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as EventsPage;
    pages.push(page);
    items.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { items, pages, nextSyncToken: pages.at(-1)!.nextSyncToken };
}

export interface ReceivedPush {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver; `status` decides what it answers (to test retries). */
export async function startReceiver(status: (headers: IncomingHttpHeaders) => number = () => 200) {
  const received: ReceivedPush[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status(req.headers)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/google-calendar`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
