import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from './google-calendar.fake.js';
import { api, connect, startReceiver } from './google-calendar.test-kit.js';
import { TEAM_CALENDAR_ID } from './seed.js';

let fake: GoogleCalendarFake;
let token: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** The receiver answers 503 to this many deliveries on channel `chan-retry`, then 200. */
let failures = 0;
const ALICE = 'alice@example.com';

beforeAll(async () => {
  fake = new GoogleCalendarFake({ push: { baseDelayMs: 10 } });
  await fake.start();
  token = (await connect(fake, ALICE)).access_token;
  receiver = await startReceiver((h) =>
    h['x-goog-channel-id'] === 'chan-retry' && failures-- > 0 ? 503 : 200,
  );
});
afterAll(async () => {
  await fake.stop();
  await receiver.close();
});

function watch(calendarId: string, body: Record<string, unknown>): Promise<Response> {
  return api(fake, token, `/calendars/${encodeURIComponent(calendarId)}/events/watch`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
}

function pushesFor(channelId: string) {
  return receiver.received.filter((p) => p.headers['x-goog-channel-id'] === channelId);
}

describe('events.watch and push notifications', () => {
  it('opens a channel, sends the sync message, then exists messages on change', async () => {
    const expiration = Date.now() + 3_600_000;
    const res = await watch('primary', {
      id: 'chan-1',
      type: 'web_hook',
      address: receiver.url,
      token: 'target=conn-1',
      expiration,
    });
    expect(res.status).toBe(200);
    const channel = (await res.json()) as Record<string, string>;
    expect(channel).toEqual({
      kind: 'api#channel',
      id: 'chan-1',
      resourceId: expect.any(String),
      resourceUri: 'https://www.googleapis.com/calendar/v3/calendars/primary/events',
      token: 'target=conn-1',
      expiration: String(expiration),
    });
    await fake.whenIdle();
    const [sync] = pushesFor('chan-1');
    expect(sync.body).toBe('');
    expect(sync.headers).toMatchObject({
      'x-goog-channel-id': 'chan-1',
      'x-goog-channel-token': 'target=conn-1',
      'x-goog-channel-expiration': new Date(expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': channel.resourceUri,
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
      'content-length': '0',
    });
    expect(sync.headers['user-agent']).toMatch(/^APIs-Google/);

    fake.createEvent(ALICE, 'primary', { summary: 'Pushed' });
    await fake.whenIdle();
    const pushes = pushesFor('chan-1');
    expect(pushes).toHaveLength(2);
    expect(pushes[1].headers).toMatchObject({
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '2',
      'x-goog-resource-id': channel.resourceId,
    });
  });

  it('notifies watchers of a shared calendar from either account, with the same resourceId', async () => {
    const bobToken = (await connect(fake, 'bob@example.com')).access_token;
    const a = (await (
      await watch(TEAM_CALENDAR_ID, { id: 'team-a', type: 'web_hook', address: receiver.url })
    ).json()) as Record<string, string>;
    const b = await api(
      fake,
      bobToken,
      `/calendars/${encodeURIComponent(TEAM_CALENDAR_ID)}/events/watch`,
      {
        method: 'POST',
        body: JSON.stringify({ id: 'team-b', type: 'web_hook', address: receiver.url }),
      },
    );
    expect(((await b.json()) as Record<string, string>).resourceId).toBe(a.resourceId);
    expect(Number(a.expiration)).toBeGreaterThan(Date.now() + 6 * 86_400_000); // default lifetime
    fake.createEvent('bob@example.com', TEAM_CALENDAR_ID, { summary: 'Bob added this' });
    await fake.whenIdle();
    expect(pushesFor('team-a').map((p) => p.headers['x-goog-resource-state'])).toEqual([
      'sync',
      'exists',
    ]);
    expect(pushesFor('team-b').map((p) => p.headers['x-goog-resource-state'])).toEqual([
      'sync',
      'exists',
    ]);
    expect(pushesFor('team-a')[0].headers).not.toHaveProperty('x-goog-channel-token');
  });

  it('channels.stop stops pushes; unknown channels are 404', async () => {
    const channel = (await (
      await watch('primary', { id: 'chan-stop', type: 'web_hook', address: receiver.url })
    ).json()) as Record<string, string>;
    const stop = await api(fake, token, '/channels/stop', {
      method: 'POST',
      body: JSON.stringify({ id: 'chan-stop', resourceId: channel.resourceId }),
    });
    expect(stop.status).toBe(204);
    expect(await stop.text()).toBe('');
    fake.createEvent(ALICE, 'primary', { summary: 'Nobody hears this on chan-stop' });
    await fake.whenIdle();
    expect(pushesFor('chan-stop')).toHaveLength(1); // only the sync message
    const again = await api(fake, token, '/channels/stop', {
      method: 'POST',
      body: JSON.stringify({ id: 'chan-stop', resourceId: channel.resourceId }),
    });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({
      error: { code: 404, errors: [{ reason: 'notFound' }] },
    });
  });

  it('lists the channel tokens clients set, after the channel stopped too', async () => {
    const channel = (await (
      await watch('primary', {
        id: 'chan-secret',
        type: 'web_hook',
        address: receiver.url,
        token: 'secret-channel-token-1',
      })
    ).json()) as Record<string, string>;
    await api(fake, token, '/channels/stop', {
      method: 'POST',
      body: JSON.stringify({ id: 'chan-secret', resourceId: channel.resourceId }),
    });
    expect(fake.channels.has('chan-secret')).toBe(false);
    expect(fake.channels.tokens()).toContain('secret-channel-token-1');
    expect(fake.issuedSecrets()).toContain('secret-channel-token-1');
  });

  it('rejects a reused channel id and a bad type', async () => {
    await watch('primary', { id: 'chan-dup', type: 'web_hook', address: receiver.url });
    const dup = await watch('primary', { id: 'chan-dup', type: 'web_hook', address: receiver.url });
    expect(dup.status).toBe(400);
    expect(await dup.json()).toMatchObject({
      error: { errors: [{ reason: 'channelIdNotUnique' }] },
    });
    expect(
      (await watch('primary', { id: 'chan-x', type: 'email', address: receiver.url })).status,
    ).toBe(400);
  });

  it('retries a push the receiver answers 503, with the same message number', async () => {
    await watch('primary', { id: 'chan-retry', type: 'web_hook', address: receiver.url });
    await fake.whenIdle();
    failures = 1;
    fake.createEvent(ALICE, 'primary', { summary: 'Retried' });
    await fake.whenIdle();
    const exists = pushesFor('chan-retry').filter(
      (p) => p.headers['x-goog-resource-state'] === 'exists',
    );
    expect(exists).toHaveLength(2);
    expect(new Set(exists.map((p) => p.headers['x-goog-message-number']))).toEqual(new Set(['2']));
    expect(fake.pushes.log().some((a) => a.status === 503)).toBe(true);
  });

  it('stops pushing after the channel expires', async () => {
    const expiration = Date.now() + 300;
    await watch('primary', {
      id: 'chan-short',
      type: 'web_hook',
      address: receiver.url,
      expiration,
    });
    await new Promise((r) => setTimeout(r, 350));
    fake.createEvent(ALICE, 'primary', { summary: 'After expiry' });
    await fake.whenIdle();
    expect(pushesFor('chan-short')).toHaveLength(1);
  });
});
