import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SlackProvider } from '../../src/providers/slack/slack.provider.js';
import { signSlackRequest } from '../../src/providers/slack/slack.signature.js';
import { CLOCK, WEBHOOKS_QUEUE } from '../../src/webhooks/webhooks.constants.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Slack's published signing example
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack) through the running
 * service: the app's signing secret is the example's, the service clock is the example's time.
 */
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

describe('Slack request verification on the published example', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    app = await startTestApp({
      port: await freePort(),
      integrations: [SlackProvider],
      env: {
        SLACK_CLIENT_ID: 'example-client',
        SLACK_CLIENT_SECRET: 'example-client-secret',
        SLACK_SIGNING_SECRET: SECRET,
      },
    });
    db = app.app.get(DataSource);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await app?.close();
  });

  const post = (
    body: string,
    signature: string,
    timestamp = TIMESTAMP,
    type = 'application/x-www-form-urlencoded',
  ) =>
    fetch(`${app.baseUrl}/v1/webhooks/slack`, {
      method: 'POST',
      headers: {
        'content-type': type,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signature,
      },
      body,
    });
  const stored = async () =>
    (await db.query('SELECT count(*)::int AS n FROM webhook_deliveries'))[0].n as number;

  it('verifies the example, and refuses a changed byte, another secret or a timestamp 301 s off; no job either way', async () => {
    const clock = vi
      .spyOn(app.app.get(CLOCK), 'now')
      .mockReturnValue(new Date((TIMESTAMP + 30) * 1000));
    expect(signSlackRequest(SECRET, String(TIMESTAMP), Buffer.from(BODY))).toBe(SIGNATURE);
    // Authentic: past the signature, a slash command is no Events API body (400, nothing stored).
    expect((await post(BODY, SIGNATURE)).status).toBe(400);
    expect((await post(BODY.replace('roadrunner', 'roadrunnex'), SIGNATURE)).status).toBe(401);
    const otherSecret = signSlackRequest('another-secret', String(TIMESTAMP), Buffer.from(BODY));
    expect((await post(BODY, otherSecret)).status).toBe(401);
    clock.mockReturnValue(new Date((TIMESTAMP + 301) * 1000));
    expect((await post(BODY, SIGNATURE)).status).toBe(401);
    clock.mockReturnValue(new Date((TIMESTAMP - 301) * 1000));
    expect((await post(BODY, SIGNATURE)).status).toBe(401);
    expect(await stored()).toBe(0);
    const queue = app.app.get<Queue>(getQueueToken(WEBHOOKS_QUEUE));
    expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual(
      {
        waiting: 0,
        active: 0,
        delayed: 0,
        completed: 0,
        failed: 0,
      },
    );
    clock.mockReturnValue(new Date((TIMESTAMP + 30) * 1000));
    // The same secret and clock accept a signed event: the refusals above were the signature's.
    const event = JSON.stringify({
      type: 'event_callback',
      team_id: 'T1DC2JH3J',
      event_id: 'Ev0EXAMPLE1',
      event: { type: 'app_mention' },
    });
    const signed = signSlackRequest(SECRET, String(TIMESTAMP + 30), Buffer.from(event));
    expect((await post(event, signed, TIMESTAMP + 30, 'application/json')).status).toBe(200);
    expect(await stored()).toBe(1);
  });
});
