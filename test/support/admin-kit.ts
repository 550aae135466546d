import type { ConnectionStore } from '../../src/auth/connection-store.service.js';
import type { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { CALENDAR_READONLY } from '../../sandbox/google-calendar/google-calendar.test-kit.js';
import { storeActiveConnection } from './active-connection.js';

/** An active Google Calendar connection holding tokens the sandbox really issued. */
export async function storeGoogleConnection(
  store: ConnectionStore,
  fake: GoogleCalendarFake,
  userId: string,
  email: string,
): Promise<string> {
  const tokens = fake.oauth.issueTokens(email, [CALENDAR_READONLY]);
  const { connection } = await storeActiveConnection(store, {
    userId,
    provider: 'google-calendar',
    identity: { accountId: email, label: email },
    credentials: {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    },
    scopes: [CALENDAR_READONLY],
  });
  return connection.id;
}

/** A browser's cookie jar for the console: one cookie, form posts, no redirects followed. */
export class AdminClient {
  cookie?: string;
  setCookie?: string;
  csrf?: string;

  constructor(private readonly baseUrl: string) {}

  async signIn(token: string): Promise<Response> {
    const res = await this.post('/admin/sign-in', { token });
    const set = res.headers.get('set-cookie');
    if (set) {
      this.setCookie = set;
      this.cookie = set.split(';')[0];
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      redirect: 'manual',
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
  }

  /** A page's HTML; remembers the CSRF token the page carries. */
  async page(path: string): Promise<string> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    const html = await res.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (csrf) this.csrf = csrf;
    return html;
  }

  post(path: string, fields: Record<string, string>): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/** The text of the element carrying data-metric="<name>", tags removed. */
export function metric(html: string, name: string): string {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`data-metric="${escaped}">([\\s\\S]*?)</(td|span)>`).exec(html);
  if (!match) throw new Error(`no metric ${name}`);
  return match[1].replace(/<[^>]+>/g, '').trim();
}
