import { createHmac } from 'node:crypto';
import { PushSender, type PushSenderOptions } from '@pdeck/integration-sdk/sandbox';
import { IdFactory } from './ids.js';
import type { TokenRec, TrelloApp } from './trello-oauth.js';
import type { ActionRec, BoardRec } from './trello-data.js';
import { boardJson } from './views.js';

export interface WebhookRec {
  id: string;
  description: string;
  idModel: string;
  callbackURL: string;
  active: boolean;
  consecutiveFailures: number;
  firstConsecutiveFailDate: string | null;
  /** The owning token (a Trello webhook belongs to the token that made it); never answered. */
  token: string;
}

export interface WebhookDeliveryOptions {
  /** Retries after a non-2xx answer (Trello: 3, at 30 / 60 / 120 s; default here 3). */
  retries?: number;
  /** First retry delay, doubling after (Trello: 30 000; default here 200 so tests stay fast). */
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Timeout of the HEAD probe at creation. */
  probeTimeoutMs?: number;
}

/** `base64(HMAC-SHA1(app secret, body bytes + callbackURL))`: Trello's documented signature. */
export function trelloWebhookSignature(
  secret: string,
  body: Buffer | string,
  callbackURL: string,
): string {
  return createHmac('sha1', secret)
    .update(Buffer.concat([Buffer.from(body), Buffer.from(callbackURL, 'utf8')]))
    .digest('base64');
}

/**
 * Every status except 2xx: Trello retries any non-2xx answer (the retry timings are reported,
 * not documented).
 */
const RETRY_STATUSES = Array.from({ length: 500 }, (_, i) => i + 100).filter(
  (s) => s < 200 || s > 299,
);

/**
 * Webhook registrations and deliveries. Creation probes the callback with HEAD and refuses
 * anything but 200; each board action is POSTed to every webhook watching the board, signed with
 * the secret of the app that owns the webhook's token.
 */
export class WebhookRegistry {
  readonly hooks = new Map<string, WebhookRec>();
  readonly pushes: PushSender;
  readonly counts = { created: 0, deleted: 0, probeFailures: 0, duplicates: 0 };

  constructor(
    private readonly ids: IdFactory,
    private readonly tokenApp: (token: string) => { rec: TokenRec; app: TrelloApp } | undefined,
    private readonly options: WebhookDeliveryOptions = {},
  ) {
    const push: PushSenderOptions = {
      retries: options.retries ?? 3,
      baseDelayMs: options.baseDelayMs ?? 200,
      timeoutMs: options.timeoutMs ?? 5_000,
      retryStatuses: RETRY_STATUSES,
    };
    this.pushes = new PushSender(push);
  }

  /** Creates a webhook after the HEAD probe, or returns Trello's 400 text. */
  async create(
    token: string,
    input: { callbackURL: string; idModel: string; description: string },
  ): Promise<WebhookRec | { error: string }> {
    const dup = [...this.hooks.values()].find(
      (h) =>
        h.token === token && h.idModel === input.idModel && h.callbackURL === input.callbackURL,
    );
    if (dup) {
      this.counts.duplicates += 1;
      return { error: 'A webhook with that callback, model, and token already exists' };
    }
    const status = await this.probe(input.callbackURL);
    if (status !== 200) {
      this.counts.probeFailures += 1;
      return { error: `URL (${input.callbackURL}) did not return 200 status code, got ${status}` };
    }
    const hook: WebhookRec = {
      id: this.ids.objectId(),
      description: input.description,
      idModel: input.idModel,
      callbackURL: input.callbackURL,
      active: true,
      consecutiveFailures: 0,
      firstConsecutiveFailDate: null,
      token,
    };
    this.hooks.set(hook.id, hook);
    this.counts.created += 1;
    return hook;
  }

  delete(id: string): boolean {
    const ok = this.hooks.delete(id);
    if (ok) this.counts.deleted += 1;
    return ok;
  }

  /**
   * A revoked token's webhooks go with it. Trello does not document whether it deletes them;
   * this is the safe reading for the service (it must not count on them still calling).
   */
  deleteForToken(token: string): void {
    for (const hook of this.hooks.values()) if (hook.token === token) this.delete(hook.id);
  }

  ofToken(token: string): WebhookRec[] {
    return [...this.hooks.values()].filter((h) => h.token === token);
  }

  /** POSTs `{"action":...,"model":...}`; the exact bytes sent are the bytes signed. */
  deliver(board: BoardRec, action: ActionRec): void {
    for (const hook of this.hooks.values()) {
      if (!hook.active || hook.idModel !== board.id) continue;
      const owner = this.tokenApp(hook.token);
      if (!owner) continue;
      const body = JSON.stringify({ action, model: boardJson(board) });
      this.pushes.send(
        hook.callbackURL,
        {
          'content-type': 'application/json',
          'user-agent': 'Trello-Sandbox',
          'x-trello-webhook': trelloWebhookSignature(owner.app.secret, body, hook.callbackURL),
        },
        body,
      );
    }
  }

  stats(): Record<string, unknown> {
    return { active: this.hooks.size, ...this.counts, deliveries: this.pushes.stats() };
  }

  private async probe(url: string): Promise<number> {
    try {
      const res = await fetch(url, {
        method: 'HEAD',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 5_000),
      });
      return res.status;
    } catch {
      return 0;
    }
  }
}

/** What the API returns for a webhook: everything but the owning token. */
export function webhookJson(h: WebhookRec): Omit<WebhookRec, 'token'> {
  const { token: _token, ...rest } = h;
  return rest;
}
