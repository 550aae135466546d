import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load-config.js';
import { OriginMap } from '../../src/providers/http/origin-map.js';
import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from '../../sandbox/google-calendar/index.js';

/**
 * The sandbox is only useful if the service's own PROVIDER_ORIGINS handling sends every Google
 * URL to it: validate the printed JSON with the real config parser, rewrite real Google URLs
 * with the real OriginMap, and walk authorize -> token -> API through the rewritten URLs.
 */
describe('Google Calendar sandbox behind PROVIDER_ORIGINS', () => {
  const fake = new GoogleCalendarFake();
  let origins: OriginMap;

  beforeAll(async () => {
    await fake.start();
    const config = parseConfig({ PROVIDER_ORIGINS: JSON.stringify(fake.origins()) });
    origins = new OriginMap(config.providerOrigins);
  });
  afterAll(() => fake.stop());

  it('serves the real Google URLs from one port: authorize, token, calendarList, userinfo', async () => {
    const redirectUri = 'http://localhost:3000/v1/oauth/google-calendar/callback';
    const authorize = new URL('https://accounts.google.com/o/oauth2/v2/auth');
    authorize.search = new URLSearchParams({
      client_id: SANDBOX_GOOGLE_CLIENT.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'https://www.googleapis.com/auth/calendar.readonly openid email',
      access_type: 'offline',
      prompt: 'consent',
      state: 'st',
      auto: 'allow',
      account: 'bob@example.com',
    }).toString();
    const consent = await fetch(origins.rewrite(authorize), { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;

    const token = await fetch(origins.rewrite('https://oauth2.googleapis.com/token'), {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: SANDBOX_GOOGLE_CLIENT.clientId,
        client_secret: SANDBOX_GOOGLE_CLIENT.clientSecret,
      }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };

    const primaryUrl = 'https://www.googleapis.com/calendar/v3/users/me/calendarList/primary';
    const primary = await fetch(origins.rewrite(primaryUrl), { headers: auth });
    expect(await primary.json()).toMatchObject({ id: 'bob@example.com', primary: true });
    const userinfo = await fetch(
      origins.rewrite('https://openidconnect.googleapis.com/v1/userinfo'),
      { headers: auth },
    );
    expect(await userinfo.json()).toMatchObject({ email: 'bob@example.com', email_verified: true });
  });
});
