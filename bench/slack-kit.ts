import {
  microsToTs,
  SANDBOX_SLACK_APP,
  SEED_SLACK,
  signSlackRequest,
  SLACK_VERIFICATION_TOKEN,
  slackJson,
} from '../sandbox/slack/index.js';
import { connectThroughConsent } from '../test/harness/connect.js';
import { eventually } from '../test/harness/ports.js';
import { BENCH_USER, finishedRun, type Rig } from './kit.js';

/** The connected Slack workspace and the channel the bench's messages are posted in. */
export interface SlackTarget {
  connectionId: string;
  /** The app's Events API request URL (verified by the fake with url_verification). */
  url: string;
  /** #general: one of the channels Alice's connection syncs. */
  channel: string;
}

/** One signed Events API request: the message's item id, the exact body bytes and headers. */
export interface SlackDelivery {
  eventId: string;
  /** The item the event must produce: `<channel>:<ts>`. */
  externalId: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Points the app's request URL at the API, connects Alice's install of the sandbox app (consent
 * with auto=allow) and waits for its backfill, after which events of her channels are routed
 * to the connection.
 */
export async function connectSlack(rig: Rig): Promise<SlackTarget> {
  const { cluster, slack } = rig;
  const url = `${cluster.baseUrl}/v1/webhooks/slack`;
  const verified = await slack.setRequestUrl(url);
  if (!verified.ok) throw new Error(`url_verification failed (HTTP ${verified.status})`);
  const connectionId = await connectThroughConsent(cluster, 'slack', BENCH_USER, {
    account: 'alice',
  });
  await finishedRun(cluster, "connection_id = $1 AND trigger = 'connect'", [connectionId], 120_000);
  const channel = SEED_SLACK.channels.general;
  const [{ n }] = await cluster.pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sync_states WHERE connection_id = $1 AND resource_id = $2',
    [connectionId, channel],
  );
  if (n !== 1) throw new Error(`the Slack connection does not sync ${channel}`);
  return { connectionId, url, channel };
}

let lastMicros = 0;

/** A message ts later than every earlier one (a ts is the message's id in its channel). */
function nextTs(): string {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  return microsToTs(lastMicros);
}

let eventCounter = 0;

/** `Ev` + 10 upper-case letters and digits, unique in the run. */
function nextEventId(): string {
  eventCounter += 1;
  return `EvB${eventCounter.toString(36).toUpperCase().padStart(9, '0')}`;
}

/**
 * The `event_callback` Slack would POST when Bob posts a new message in the target channel
 * (https://docs.slack.dev/apis/events-api/, https://docs.slack.dev/reference/events/message),
 * in the fake's envelope: serialized as Slack does (`/` escaped, the text holds a link) and
 * signed over those exact bytes with a timestamp of now.
 */
export function messageDelivery(target: SlackTarget): SlackDelivery {
  const { team, users } = SEED_SLACK;
  const ts = nextTs();
  const eventId = nextEventId();
  const context = {
    et: 'message',
    tid: team.id,
    aid: SANDBOX_SLACK_APP.appId,
    cid: target.channel,
  };
  const body = slackJson({
    token: SLACK_VERIFICATION_TOKEN,
    team_id: team.id,
    context_team_id: team.id,
    context_enterprise_id: null,
    api_app_id: SANDBOX_SLACK_APP.appId,
    event: {
      type: 'message',
      channel: target.channel,
      user: users.bob,
      text: `Bench message ${eventId}, see <https://example.com/bench/${eventId}>`,
      ts,
      event_ts: ts,
      channel_type: 'channel',
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: team.id,
        user_id: users.bot,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify(context)).toString('base64url')}`,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    eventId,
    externalId: `${target.channel}:${ts}`,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(SANDBOX_SLACK_APP.signingSecret, timestamp, body),
    },
  };
}

/** Outcome of a batch of acknowledged events, checked against Postgres (the loss check of P2). */
export interface LossCheck {
  acknowledged: number;
  /** Rows in webhook_deliveries under the acknowledged event ids. */
  stored: number;
  /** Live items of the Slack connection with the events' external ids. */
  items: number;
  /** Acknowledged events missing their stored delivery or their item (at least this many). */
  lost: number;
  /** Stored Slack deliveries, under any id, carrying a message another one carries too. */
  duplicated: number;
}

/**
 * Waits until every acknowledged event has produced its item (or the timeout passed), then
 * counts the items, the deliveries stored under the events' ids, and the stored deliveries that
 * carry one of those messages a second time (whatever delivery id the service gave them).
 */
export async function lossCheck(
  rig: Rig,
  target: SlackTarget,
  acknowledged: Array<Pick<SlackDelivery, 'eventId' | 'externalId'>>,
  timeoutMs = 120_000,
): Promise<LossCheck> {
  const { cluster } = rig;
  const eventIds = acknowledged.map((d) => d.eventId);
  const externalIds = acknowledged.map((d) => d.externalId);
  const items = async () =>
    (
      await cluster.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM items WHERE connection_id = $1 AND kind = 'message'
         AND external_id = ANY($2) AND deleted_at IS NULL`,
        [target.connectionId, externalIds],
      )
    )[0].n;
  await eventually(
    async () => ((await items()) === externalIds.length ? true : undefined),
    'every acknowledged event to reach the items table',
    timeoutMs,
    250,
  ).catch(() => undefined);
  const [stored] = await cluster.pg.query<{ n: number; dup: number }>(
    `SELECT (count(*) FILTER (WHERE delivery_id = ANY($1)))::int AS n,
       (count(*) - count(DISTINCT message))::int AS dup
     FROM (SELECT delivery_id, (body::jsonb #>> '{event,channel}') || ':' ||
             (body::jsonb #>> '{event,ts}') AS message
           FROM webhook_deliveries WHERE provider = 'slack') d
     WHERE message = ANY($2)`,
    [eventIds, externalIds],
  );
  const found = await items();
  return {
    acknowledged: acknowledged.length,
    stored: stored.n,
    items: found,
    lost: acknowledged.length - Math.min(found, stored.n),
    duplicated: stored.dup,
  };
}
