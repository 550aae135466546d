import { randomBytes } from 'node:crypto';
import type { RequestContext, Reply } from '@pdeck/integration-sdk/sandbox';
import { json } from '@pdeck/integration-sdk/sandbox';
import { graphError } from './graph-errors.js';
import type { FakeEvent, Mailbox } from './mailbox.js';

/** Where a round stands: what is left to send, and the change position it ends at. */
interface Round {
  mailbox: Mailbox;
  generation: number;
  start: number;
  end: number;
  /** The initial query, for the 410's Location (same window, empty $deltatoken). */
  query: string;
  pending: object[];
  endSeq: number;
  /** A calendar without events here: its delta rounds stay empty. */
  empty: boolean;
  pageSize: number;
}

type Position = Omit<Round, 'pending' | 'pageSize'>;

export const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;

/**
 * `GET /v1.0/me/calendarView/delta` as https://learn.microsoft.com/en-us/graph/api/event-delta
 * describes it: the first call needs startDateTime and endDateTime (parameter names in any
 * case); pages carry an absolute `@odata.nextLink` ($skiptoken) until the last one, which carries
 * `@odata.deltaLink` ($deltatoken). A delta round lists what changed since: live events in the
 * window in full, anything else as `@removed`. Expired tokens answer 410 SyncStateNotFound with
 * a Location to start over. Page size comes from `Prefer: odata.maxpagesize`.
 */
export class DeltaFeed {
  private readonly skipTokens = new Map<string, Round>();
  private readonly deltaTokens = new Map<string, Position>();
  /** Requests answered per kind, for assertions. */
  readonly counts = { initial: 0, page: 0, delta: 0, expired: 0 };

  constructor(private readonly linkBase: () => string) {}

  /** `empty`: a calendar of the mailbox that holds no events here. */
  handle(mailbox: Mailbox, ctx: RequestContext, empty = false): Reply {
    const q = new Map([...ctx.query].map(([k, v]) => [k.toLowerCase(), v]));
    const pageSize = preferPageSize(ctx.req.headers.prefer);
    const skip = q.get('$skiptoken');
    const delta = q.get('$deltatoken');
    if (skip) {
      const round = this.skipTokens.get(skip);
      if (!round || round.mailbox !== mailbox) return this.expired(round);
      if (round.generation !== mailbox.generation) return this.expired(round);
      this.skipTokens.delete(skip);
      this.counts.page += 1;
      return this.page(round);
    }
    if (delta) {
      const position = this.deltaTokens.get(delta);
      if (!position || position.mailbox !== mailbox || position.generation !== mailbox.generation) {
        return this.expired(position);
      }
      this.counts.delta += 1;
      return this.page({
        ...position,
        pending: this.changesSince(position),
        endSeq: mailbox.seq,
        pageSize,
      });
    }
    const start = Date.parse(q.get('startdatetime') ?? '');
    const end = Date.parse(q.get('enddatetime') ?? '');
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
      return graphError(
        400,
        'ErrorInvalidParameter',
        'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
      );
    }
    this.counts.initial += 1;
    const query = new URLSearchParams({
      startDateTime: q.get('startdatetime')!,
      endDateTime: q.get('enddatetime')!,
    });
    const position = {
      empty,
      mailbox,
      generation: mailbox.generation,
      start,
      end,
      query: query.toString(),
      endSeq: mailbox.seq,
    };
    const events = empty ? [] : [...mailbox.events.values()];
    const live = events.filter((e) => inWindow(e, start, end));
    live.sort((a, b) => a.start.dateTime.localeCompare(b.start.dateTime));
    return this.page({ ...position, pending: live.map(view), pageSize });
  }

  /** Every delta and skip token of the mailbox stops working (as when Outlook's cache drops it). */
  expire(mailbox: Mailbox): void {
    mailbox.generation += 1;
  }

  private page(round: Round): Reply {
    const value = round.pending.splice(0, round.pageSize);
    const base = `${this.linkBase()}/v1.0/me/calendarView/delta`;
    const body: Record<string, unknown> = {
      '@odata.context': `${this.linkBase()}/v1.0/$metadata#Collection(event)`,
    };
    if (round.pending.length > 0) {
      const token = randomBytes(24).toString('base64url');
      this.skipTokens.set(token, round);
      body['@odata.nextLink'] = `${base}?$skiptoken=${token}`;
    } else {
      const token = randomBytes(24).toString('base64url');
      const { pending: _p, pageSize: _s, ...position } = round;
      this.deltaTokens.set(token, { ...position, generation: round.mailbox.generation });
      body['@odata.deltaLink'] = `${base}?$deltatoken=${token}`;
    }
    body.value = value;
    return json(200, body, {
      'content-type':
        'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
    });
  }

  private changesSince(position: Position): object[] {
    const { mailbox, start, end } = position;
    const ids = new Set<string>();
    if (position.empty) return [];
    for (const change of mailbox.changes) if (change.seq > position.endSeq) ids.add(change.id);
    return [...ids].map((id) => {
      const event = mailbox.events.get(id);
      if (event && inWindow(event, start, end)) return view(event);
      return { '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } };
    });
  }

  private expired(known: Position | undefined): Reply {
    this.counts.expired += 1;
    const query = known?.query ? `${known.query}&` : '';
    const location = `${this.linkBase()}/v1.0/me/calendarView/delta?${query}$deltatoken=`;
    return graphError(
      410,
      'SyncStateNotFound',
      'The sync state generation is not found; it might have been cleaned up. Please restart the sync.',
      { location },
    );
  }
}

function inWindow(event: FakeEvent, start: number, end: number): boolean {
  const s = Date.parse(`${event.start.dateTime.slice(0, 23)}Z`);
  const e = Date.parse(`${event.end.dateTime.slice(0, 23)}Z`);
  return s < end && e > start;
}

function view(event: FakeEvent): object {
  return {
    '@odata.type': '#microsoft.graph.event',
    '@odata.etag': `W/"${event.changeKey}"`,
    ...structuredClone(event),
  };
}

function preferPageSize(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const m = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
  return m ? Math.min(Math.max(Number(m[1]), 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}
