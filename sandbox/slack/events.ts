import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SandboxNotFoundError } from '@pdeck/integration-sdk/sandbox';
import type { SlackApp } from './slack-oauth.js';

/** The deprecated `token` field of every Events API body (a fixed fake verification token). */
export const SLACK_VERIFICATION_TOKEN = 'pdeckSbxVerifTok3n8Qz4Lm2W';

export type RetryReason = 'http_timeout' | 'http_error' | 'connection_failed';

export interface SlackEventsOptions {
  /** An answer must arrive (2xx) within this long (Slack: 3 s). */
  ackTimeoutMs?: number;
  /** Delay before each retry, one retry per entry (Slack: 3, nearly at once, after 1 and 5 min). */
  retryDelaysMs?: number[];
}

/** One request the fake sent to a request URL, exactly as sent. */
export interface SentRequest {
  at: string;
  url: string;
  /** The envelope's `event_id`; '' for url_verification and bodies without one. */
  eventId: string;
  /** The event's type (`message`, `reaction_added`), else the body's `type` (`url_verification`). */
  type: string;
  /** 1 for the first delivery; a retry is `X-Slack-Retry-Num` + 1. */
  attempt: number;
  headers: Record<string, string>;
  body: string;
  /** HTTP status, 0 when no answer came in time or at all (see `failure`). */
  status: number;
  failure?: 'http_timeout' | 'connection_failed';
}

/** What the app can see an event through: its `authorizations` entry. */
export interface EventAuthorization {
  teamId: string;
  userId: string;
  isBot: boolean;
}

/** `v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")>` (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
export function signSlackRequest(
  secret: string,
  timestamp: number | string,
  rawBody: string,
): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  return `v0=${mac.update(`v0:${timestamp}:${rawBody}`, 'utf8').digest('hex')}`;
}

/** JSON as Slack writes it, `/` escaped as `\/`: a verifier that re-serializes the body breaks. */
export function slackJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/');
}

const USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';

/**
 * The Events API over HTTP (https://docs.slack.dev/apis/events-api/using-http-request-urls):
 * one request URL per app, saved only after the url_verification challenge is echoed; every
 * request signed with `X-Slack-Signature` over the exact bytes sent. A delivery not acked with a
 * 2xx within `ackTimeoutMs` is retried (https://docs.slack.dev/apis/events-api/) with
 * `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`, each attempt freshly timestamped and signed over
 * the same body, unless a non-2xx answer carries `x-slack-no-retry: 1`.
 *
 * Its own sender rather than core's PushSender: Slack's retries need per-attempt headers, the
 * reason (timeout vs refused connection vs error status), the answer's headers and body.
 */
export class SlackEvents {
  private readonly urls = new Map<string, string>();
  private readonly stored = new Map<string, { appId: string; type: string; body: string }>();
  private readonly log: SentRequest[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly counts = { events: 0, delivered: 0, failed: 0 };
  private readonly ackTimeoutMs: number;
  private readonly retryDelaysMs: number[];
  private closed = false;

  constructor(
    private readonly apps: SlackApp[],
    private readonly now: () => number,
    options: SlackEventsOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 3_000;
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 60_000, 300_000];
  }

  requestUrl(appId: string): string | undefined {
    return this.urls.get(appId);
  }

  /**
   * Sends url_verification and saves the URL only when it answers 200 with the challenge, as
   * text, a `challenge=` form or JSON `{challenge}`. A failed check keeps the previous URL.
   */
  async setRequestUrl(
    url: string,
    appId = this.apps[0].appId,
  ): Promise<{ ok: boolean; status: number }> {
    const app = this.app(appId);
    const challenge = randomBytes(36).toString('base64url');
    const body = slackJson({
      token: SLACK_VERIFICATION_TOKEN,
      challenge,
      type: 'url_verification',
    });
    const res = await this.post(
      url,
      body,
      app.signingSecret,
      this.timestamp(),
      {},
      {
        eventId: '',
        type: 'url_verification',
        attempt: 1,
      },
    );
    const ok = res.status === 200 && echoed(res, challenge);
    if (ok) this.urls.set(appId, url);
    return { ok, status: res.status };
  }

  /**
   * Wraps `event` in the `event_callback` envelope (https://docs.slack.dev/apis/events-api/) and
   * delivers it in the background when the app has a request URL; returns the `event_id`.
   */
  emit(
    app: SlackApp,
    event: Record<string, unknown>,
    auth: EventAuthorization,
    channel?: string,
  ): string | undefined {
    if (!this.urls.has(app.appId)) return undefined;
    const eventId = this.newEventId();
    const context = {
      et: event.type,
      tid: auth.teamId,
      aid: app.appId,
      ...(channel ? { cid: channel } : {}),
    };
    const body = slackJson({
      token: SLACK_VERIFICATION_TOKEN,
      team_id: auth.teamId,
      context_team_id: auth.teamId,
      context_enterprise_id: null,
      api_app_id: app.appId,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(this.now() / 1000),
      authorizations: [
        {
          enterprise_id: null,
          team_id: auth.teamId,
          user_id: auth.userId,
          is_bot: auth.isBot,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(JSON.stringify(context)).toString('base64url')}`,
    });
    const type = String(event.type);
    this.stored.set(eventId, { appId: app.appId, type, body });
    this.counts.events++;
    const job = this.deliver(app, eventId, type, body).finally(() => this.inflight.delete(job));
    this.inflight.add(job);
    return eventId;
  }

  /** Every request sent so far (events, retries, replays, url_verification, sendSigned). */
  sent(): SentRequest[] {
    return [...this.log];
  }

  /**
   * Sends the stored body of `eventId` again, byte for byte, freshly timestamped and signed, with
   * the retry headers when `retryNum` is given; resolves to the HTTP status (0: no answer).
   */
  async replay(
    eventId: string,
    opts: { retryNum?: number; reason?: RetryReason } = {},
  ): Promise<number> {
    const ev = this.stored.get(eventId);
    if (!ev) throw new SandboxNotFoundError(`unknown event ${eventId}`);
    const url = this.requireUrl(ev.appId);
    const retry: Record<string, string> =
      opts.retryNum === undefined
        ? {}
        : {
            'x-slack-retry-num': String(opts.retryNum),
            'x-slack-retry-reason': opts.reason ?? 'http_error',
          };
    const res = await this.post(
      url,
      ev.body,
      this.app(ev.appId).signingSecret,
      this.timestamp(),
      retry,
      {
        eventId,
        type: ev.type,
        attempt: (opts.retryNum ?? 0) + 1,
      },
    );
    return res.status;
  }

  /**
   * Posts any body (objects are serialized as Slack does) to the app's request URL, signed with
   * `timestamp` (default now) and `secret` (default the app's signing secret); `headers` go last
   * and may override any header. For forged, stale and future-dated request tests.
   */
  async sendSigned(
    body: string | Record<string, unknown>,
    opts: {
      timestamp?: number | string;
      secret?: string;
      headers?: Record<string, string>;
      appId?: string;
    } = {},
  ): Promise<number> {
    const app = this.app(opts.appId ?? this.apps[0].appId);
    const raw = typeof body === 'string' ? body : slackJson(body);
    const res = await this.post(
      this.requireUrl(app.appId),
      raw,
      opts.secret ?? app.signingSecret,
      opts.timestamp ?? this.timestamp(),
      opts.headers ?? {},
      { ...describe(raw), attempt: 1 },
    );
    return res.status;
  }

  /** Resolves once no delivery (or scheduled retry) is pending. */
  async whenIdle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled(this.inflight);
  }

  /** Cancels scheduled retries (stopping the fake must not wait 5 minutes). */
  close(): void {
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waits.clear();
  }

  stats(): Record<string, unknown> {
    return {
      requestUrls: Object.fromEntries(this.urls),
      ...this.counts,
      attempts: this.log.length,
      inflight: this.inflight.size,
    };
  }

  private async deliver(app: SlackApp, eventId: string, type: string, body: string): Promise<void> {
    let reason: RetryReason | undefined;
    for (let attempt = 1; !this.closed; attempt++) {
      const url = this.urls.get(app.appId);
      if (!url) return;
      const retry: Record<string, string> = reason
        ? { 'x-slack-retry-num': String(attempt - 1), 'x-slack-retry-reason': reason }
        : {};
      const res = await this.post(url, body, app.signingSecret, this.timestamp(), retry, {
        eventId,
        type,
        attempt,
      });
      if (res.status >= 200 && res.status < 300) {
        this.counts.delivered++;
        return;
      }
      const delay = this.retryDelaysMs[attempt - 1];
      if (delay === undefined || res.headers['x-slack-no-retry'] === '1') {
        this.counts.failed++;
        return;
      }
      reason = res.failure ?? 'http_error';
      await this.sleep(delay);
    }
  }

  private async post(
    url: string,
    body: string,
    secret: string,
    timestamp: number | string,
    extra: Record<string, string>,
    meta: Pick<SentRequest, 'eventId' | 'type' | 'attempt'>,
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(secret, timestamp, body),
      ...extra,
    };
    const at = new Date(this.now()).toISOString();
    const res = await postOnce(url, headers, body, this.ackTimeoutMs);
    this.log.push({
      at,
      url,
      ...meta,
      headers,
      body,
      status: res.status,
      ...(res.failure ? { failure: res.failure } : {}),
    });
    if (this.log.length > 5_000) this.log.splice(0, 1_000);
    return res;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        resolve,
      };
      this.waits.add(wait);
    });
  }

  private app(appId: string): SlackApp {
    const app = this.apps.find((a) => a.appId === appId);
    if (!app) throw new SandboxNotFoundError(`unknown app ${appId}`);
    return app;
  }

  private requireUrl(appId: string): string {
    const url = this.urls.get(appId);
    if (!url) throw new Error(`app ${appId} has no request URL`);
    return url;
  }

  private timestamp(): number {
    return Math.floor(this.now() / 1000);
  }

  /** `Ev` + 10 upper-case letters and digits, unique in this fake. */
  private newEventId(): string {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (;;) {
      const id = `Ev${Array.from({ length: 10 }, () => chars[randomInt(chars.length)]).join('')}`;
      if (!this.stored.has(id)) return id;
    }
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  failure?: 'http_timeout' | 'connection_failed';
}

/** The challenge came back as text, as a `challenge=` form or as JSON `{challenge}`. */
function echoed(res: Answer, challenge: string): boolean {
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    try {
      return (JSON.parse(res.body) as { challenge?: unknown }).challenge === challenge;
    } catch {
      return false;
    }
  }
  if (type === 'application/x-www-form-urlencoded')
    return new URLSearchParams(res.body).get('challenge') === challenge;
  return res.body === challenge;
}

function describe(raw: string): Pick<SentRequest, 'eventId' | 'type'> {
  try {
    const b = JSON.parse(raw) as { event_id?: unknown; type?: unknown; event?: { type?: unknown } };
    return {
      eventId: typeof b.event_id === 'string' ? b.event_id : '',
      type: String(b.event?.type ?? b.type ?? ''),
    };
  } catch {
    return { eventId: '', type: '' };
  }
}

/**
 * One POST with node:http (exact headers out, the answer's headers and body back). No answer
 * within `timeoutMs` is `http_timeout` (the request is dropped); a refused or reset connection
 * is `connection_failed`.
 */
function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const failed = (failure: Answer['failure']): Answer => ({
      status: 0,
      headers: {},
      body: '',
      failure,
    });
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          finish({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', () => finish(failed('connection_failed')));
      },
    );
    const timer = setTimeout(() => {
      finish(failed('http_timeout'));
      req.destroy();
    }, timeoutMs);
    req.on('error', () => finish(failed('connection_failed')));
    req.end(body);
  });
}
