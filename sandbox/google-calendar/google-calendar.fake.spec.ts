import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from './google-calendar.fake.js';
import {
  api,
  authorize,
  authorizeUrl,
  CALENDAR_READONLY,
  connect,
  pkcePair,
  REDIRECT_URI,
  tokenRequest,
} from './google-calendar.test-kit.js';

let fake: GoogleCalendarFake;

beforeAll(async () => {
  fake = new GoogleCalendarFake({ seedAnchor: new Date('2026-03-04T12:00:00Z') });
  await fake.start();
});
afterAll(() => fake.stop());

describe('OAuth 2.0 (accounts.google.com + oauth2.googleapis.com)', () => {
  it('serves a consent page a person can click through, then redirects with a code', async () => {
    const page = await fetch(authorizeUrl(fake, { account: undefined }));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('PDeck Integrations (sandbox)');
    expect(html).toContain(CALENDAR_READONLY);
    expect(html).toContain('value="bob@example.com"');
    const request = /name="request" value="([^"]+)"/.exec(html)![1];
    const decision = await fetch(`${fake.url}/o/oauth2/v2/auth/decision`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ request, account: 'bob@example.com', decision: 'allow' }),
    });
    expect(decision.status).toBe(302);
    const callback = new URL(decision.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('state-123');
    const tokens = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
    });
    const { access_token } = (await tokens.json()) as { access_token: string };
    const primary = await (await api(fake, access_token, '/users/me/calendarList/primary')).json();
    expect(primary).toMatchObject({ id: 'bob@example.com', primary: true, accessRole: 'owner' });
  });

  it('redirects with error=access_denied when the user denies', async () => {
    const callback = await authorize(fake, { auto: 'deny', state: 's-deny' });
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      state: 's-deny',
    });
  });

  it('exchanges a code with a PKCE S256 verifier for Google-shaped tokens', async () => {
    const tokens = await connect(fake, 'alice@example.com');
    expect(tokens).toEqual({
      access_token: expect.stringMatching(/^ya29\./),
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^1\/\//),
      scope: CALENDAR_READONLY,
      token_type: 'Bearer',
    });
  });

  it('rejects a wrong verifier with invalid_grant, and the code is then spent', async () => {
    const { verifier, challenge } = pkcePair();
    const code = (await authorize(fake, { challenge })).searchParams.get('code')!;
    const wrong = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkcePair().verifier,
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });
    const retry = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    expect(((await retry.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('rejects a missing verifier and a different redirect_uri', async () => {
    const { challenge } = pkcePair();
    const code1 = (await authorize(fake, { challenge })).searchParams.get('code')!;
    const missing = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code: code1,
      redirect_uri: REDIRECT_URI,
    });
    expect(await missing.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Missing code verifier.',
    });
    const code2 = (await authorize(fake)).searchParams.get('code')!;
    const mismatch = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: 'http://127.0.0.1:3000/other',
    });
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { error: string }).error).toBe('redirect_uri_mismatch');
  });

  it('authenticates the client: a wrong secret is 401 invalid_client', async () => {
    const code = (await authorize(fake)).searchParams.get('code')!;
    const res = await tokenRequest(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_secret: 'nope',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('issues a refresh token only on first consent or with prompt=consent', async () => {
    const again = async (prompt?: string) => {
      const code = (
        await authorize(fake, { account: 'alice@example.com', prompt })
      ).searchParams.get('code')!;
      return (await (
        await tokenRequest(fake, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
        })
      ).json()) as Record<string, unknown>;
    };
    await connect(fake, 'alice@example.com');
    expect(await again()).not.toHaveProperty('refresh_token');
    expect(await again('consent')).toHaveProperty('refresh_token');
  });

  it('refreshes without rotating the refresh token, and counts grant types', async () => {
    const before = (fake.oauth.stats().tokenRequests as Record<string, number>).refresh_token ?? 0;
    const { refresh_token } = await connect(fake);
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(fake, {
        grant_type: 'refresh_token',
        refresh_token: refresh_token!,
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        scope: CALENDAR_READONLY,
      });
      expect(body).not.toHaveProperty('refresh_token');
      expect(fake.oauth.introspect(body.access_token as string)).toMatchObject({
        active: true,
        account: 'alice@example.com',
      });
    }
    expect((fake.oauth.stats().tokenRequests as Record<string, number>).refresh_token).toBe(
      before + 2,
    );
  });

  it('revoke kills the grant: API calls get 401 with Google error body, refresh gets invalid_grant', async () => {
    const { access_token, refresh_token } = await connect(fake, 'bob@example.com');
    expect((await api(fake, access_token, '/users/me/calendarList')).status).toBe(200);
    const revoke = await fetch(`${fake.url}/revoke?token=${encodeURIComponent(refresh_token!)}`, {
      method: 'POST',
    });
    expect(revoke.status).toBe(200);
    const denied = await api(fake, access_token, '/users/me/calendarList');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({
      error: {
        code: 401,
        status: 'UNAUTHENTICATED',
        errors: [{ reason: 'authError', domain: 'global' }],
      },
    });
    const refresh = await tokenRequest(fake, {
      grant_type: 'refresh_token',
      refresh_token: refresh_token!,
    });
    expect(await refresh.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
    const again = await fetch(`${fake.url}/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: access_token }),
    });
    expect(again.status).toBe(400);
  });

  it('lists every secret it issued, spent and revoked ones included, for leak checks', async () => {
    const { verifier, challenge } = pkcePair();
    const callback = await authorize(fake, { challenge, prompt: 'consent' });
    const code = callback.searchParams.get('code')!;
    const tokens = (await (
      await tokenRequest(fake, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      })
    ).json()) as { access_token: string; refresh_token: string };
    const revoke = await fetch(`${fake.url}/revoke?token=${tokens.refresh_token}`, {
      method: 'POST',
    });
    expect(revoke.status).toBe(200);
    const secrets = fake.oauth.issuedSecrets();
    expect(secrets).toEqual(
      expect.arrayContaining([
        fake.clients[0].clientSecret,
        code,
        tokens.access_token,
        tokens.refresh_token,
      ]),
    );
    expect(fake.issuedSecrets()).toEqual(expect.arrayContaining(secrets));
    expect(secrets).not.toContain(fake.clients[0].clientId);
  });

  it('answers 401 for an expired access token and 403 for a token without calendar scopes', async () => {
    const { access_token } = await connect(fake);
    fake.oauth.tokens.expireAccessTokens('alice@example.com');
    expect((await api(fake, access_token, '/calendars/primary/events')).status).toBe(401);
    const { access_token: profileOnly } = await connect(fake, 'alice@example.com', 'openid email');
    const res = await api(fake, profileOnly, '/calendars/primary/events');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { errors: [{ reason: 'insufficientPermissions' }] },
    });
  });
});

describe('calendarList', () => {
  it('lists primary, Team and holidays; the hidden archive only with showHidden', async () => {
    const { access_token } = await connect(fake);
    const list = (await (await api(fake, access_token, '/users/me/calendarList')).json()) as {
      kind: string;
      items: Array<Record<string, unknown>>;
      nextSyncToken?: string;
    };
    expect(list.kind).toBe('calendar#calendarList');
    expect(list.nextSyncToken).toEqual(expect.any(String));
    expect(list.items.map((c) => c.summary)).toEqual([
      'alice@example.com',
      'Team',
      'Holidays in United States',
    ]);
    expect(list.items[0]).toMatchObject({
      kind: 'calendar#calendarListEntry',
      id: 'alice@example.com',
      primary: true,
      selected: true,
      accessRole: 'owner',
      timeZone: 'Europe/Berlin',
    });
    expect(list.items[2]).toMatchObject({
      id: 'en.usa#holiday@group.v.calendar.google.com',
      accessRole: 'reader',
    });
    expect(list.items[2]).not.toHaveProperty('primary');
    const all = (await (
      await api(fake, access_token, '/users/me/calendarList?showHidden=true')
    ).json()) as { items: Array<Record<string, unknown>> };
    const archive = all.items.find((c) => c.summary === 'Archive (old projects)')!;
    expect(archive).toMatchObject({ hidden: true, accessRole: 'owner' });
    expect(archive).not.toHaveProperty('selected');
  });

  it('pages with nextPageToken and puts nextSyncToken only on the last page', async () => {
    const { access_token } = await connect(fake);
    const first = (await (
      await api(fake, access_token, '/users/me/calendarList?maxResults=2')
    ).json()) as Record<string, unknown>;
    expect(first).toHaveProperty('nextPageToken');
    expect(first).not.toHaveProperty('nextSyncToken');
    const q = new URLSearchParams({ maxResults: '2', pageToken: first.nextPageToken as string });
    const second = (await (
      await api(fake, access_token, `/users/me/calendarList?${q}`)
    ).json()) as Record<string, unknown>;
    expect(second.items).toHaveLength(1);
    expect(second).toHaveProperty('nextSyncToken');
  });
});
