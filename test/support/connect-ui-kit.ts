import { TEST_API_TOKEN } from './test-app.js';

/** A browser stand-in for the Connect UI tests: one cookie jar, no redirects followed. */
export class UiBrowser {
  private cookie: string | undefined;
  /** The raw Set-Cookie header of the last link opened. */
  setCookie: string | null = null;

  constructor(private readonly baseUrl: string) {}

  async open(url: string): Promise<Response> {
    const res = await this.get(url);
    this.setCookie = res.headers.get('set-cookie');
    if (this.setCookie) this.cookie = this.setCookie.split(';')[0];
    return res;
  }

  get(url: string): Promise<Response> {
    return fetch(new URL(url, this.baseUrl), {
      redirect: 'manual',
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The page's CSRF token, as its forms carry it. */
  async csrf(): Promise<string> {
    const html = await (await this.get('/connect')).text();
    const match = /name="csrf" value="([^"]+)"/.exec(html);
    if (!match) throw new Error('no CSRF token on /connect');
    return match[1];
  }
}

/** PDeck's backend asking for a Connect UI link. */
export function createConnectSession(
  baseUrl: string,
  body: unknown,
  token: string | null = TEST_API_TOKEN,
): Promise<Response> {
  return fetch(`${baseUrl}/v1/connect-sessions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

export async function connectSessionUrl(baseUrl: string, body: unknown): Promise<string> {
  const res = await createConnectSession(baseUrl, body);
  if (res.status !== 201) throw new Error(`connect session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}
