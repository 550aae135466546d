import { randomBytes, randomUUID } from 'node:crypto';

/** A stored event, in Graph's JSON shape (times in UTC, 7 fractional digits, no offset). */
export interface FakeEvent {
  id: string;
  subject: string;
  bodyPreview: string;
  body: { contentType: 'html' | 'text'; content: string };
  start: { dateTime: string; timeZone: 'UTC' };
  end: { dateTime: string; timeZone: 'UTC' };
  isAllDay: boolean;
  isCancelled: boolean;
  showAs: 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere' | 'unknown';
  webLink: string;
  organizer: { emailAddress: { name: string; address: string } };
  attendees: Array<{
    type: 'required' | 'optional';
    status: { response: string; time: string };
    emailAddress: { name: string; address: string };
  }>;
  location: { displayName: string };
  iCalUId: string;
  type: 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster';
  seriesMasterId: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  changeKey: string;
}

/** What a test passes to create or change an event: times as ISO instants. */
export interface EventInput {
  subject?: string;
  bodyPreview?: string;
  start?: string;
  end?: string;
  isAllDay?: boolean;
  isCancelled?: boolean;
  showAs?: FakeEvent['showAs'];
  attendees?: string[];
  type?: FakeEvent['type'];
  seriesMasterId?: string | null;
  iCalUId?: string;
}

export interface MailboxUser {
  id: string;
  displayName: string;
  /** Null for many personal accounts: clients fall back to userPrincipalName. */
  mail: string | null;
  userPrincipalName: string;
}

export interface FakeCalendar {
  id: string;
  name: string;
  isDefaultCalendar: boolean;
  canEdit: boolean;
}

/** One user's mailbox: profile, calendars, events of the default calendar and a change log. */
export class Mailbox {
  readonly events = new Map<string, FakeEvent>();
  /** Ids changed (created, updated, deleted) in order; delta rounds read what came after a seq. */
  readonly changes: Array<{ seq: number; id: string }> = [];
  seq = 0;
  /** Raised to invalidate every delta and skip token of this mailbox (410 SyncStateNotFound). */
  generation = 0;

  constructor(
    readonly email: string,
    readonly user: MailboxUser,
    readonly tenantId: string,
    readonly calendars: FakeCalendar[],
    private readonly now: () => number,
  ) {}

  create(input: EventInput): FakeEvent {
    const id = `AAMkAG${randomBytes(24).toString('base64')}`;
    const at = graphTime(this.now(), true);
    const start = input.start ?? new Date(this.now() + 3600_000).toISOString();
    const end = input.end ?? new Date(Date.parse(start) + 3600_000).toISOString();
    const event: FakeEvent = {
      id,
      subject: '',
      bodyPreview: '',
      body: { contentType: 'html', content: '' },
      start: { dateTime: graphTime(Date.parse(start)), timeZone: 'UTC' },
      end: { dateTime: graphTime(Date.parse(end)), timeZone: 'UTC' },
      isAllDay: false,
      isCancelled: false,
      showAs: 'busy',
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      organizer: { emailAddress: { name: this.user.displayName, address: this.email } },
      attendees: [],
      location: { displayName: '' },
      iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(28).toString('hex').toUpperCase()}`,
      type: 'singleInstance',
      seriesMasterId: null,
      createdDateTime: at,
      lastModifiedDateTime: at,
      changeKey: randomBytes(12).toString('base64'),
    };
    this.apply(event, input);
    this.events.set(id, event);
    this.touch(id);
    return event;
  }

  update(id: string, input: EventInput): FakeEvent {
    const event = this.require(id);
    this.apply(event, input);
    // Strictly later than before, even within one millisecond.
    const last = Date.parse(`${event.lastModifiedDateTime.slice(0, 23)}Z`);
    event.lastModifiedDateTime = graphTime(Math.max(this.now(), last + 1), true);
    event.changeKey = randomBytes(12).toString('base64');
    this.touch(id);
    return event;
  }

  delete(id: string): void {
    this.require(id);
    this.events.delete(id);
    this.touch(id);
  }

  require(id: string): FakeEvent {
    const event = this.events.get(id);
    if (!event) throw new Error(`no event ${id} in ${this.email}`);
    return event;
  }

  defaultCalendar(): FakeCalendar {
    return this.calendars.find((c) => c.isDefaultCalendar) ?? this.calendars[0];
  }

  private touch(id: string): void {
    this.seq += 1;
    this.changes.push({ seq: this.seq, id });
  }

  private apply(event: FakeEvent, input: EventInput): void {
    if (input.subject !== undefined) event.subject = input.subject;
    if (input.bodyPreview !== undefined) {
      event.bodyPreview = input.bodyPreview;
      event.body = {
        contentType: 'html',
        content: `<html><body>${input.bodyPreview}</body></html>`,
      };
    }
    if (input.start !== undefined) event.start.dateTime = graphTime(Date.parse(input.start));
    if (input.end !== undefined) event.end.dateTime = graphTime(Date.parse(input.end));
    if (input.isAllDay !== undefined) event.isAllDay = input.isAllDay;
    if (input.isCancelled !== undefined) event.isCancelled = input.isCancelled;
    if (input.showAs !== undefined) event.showAs = input.showAs;
    if (input.type !== undefined) event.type = input.type;
    if (input.seriesMasterId !== undefined) event.seriesMasterId = input.seriesMasterId;
    if (input.iCalUId !== undefined) event.iCalUId = input.iCalUId;
    if (input.attendees !== undefined) {
      event.attendees = input.attendees.map((address) => ({
        type: 'required',
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { name: address.split('@')[0], address },
      }));
    }
  }
}

/** `2024-05-01T10:00:00.0000000` (Graph's event times), or with `Z` for *DateTime properties. */
export function graphTime(ms: number, withZone = false): string {
  const iso = new Date(ms).toISOString(); // 2024-05-01T10:00:00.123Z
  return `${iso.slice(0, 23)}${randomDigits(withZone)}${withZone ? 'Z' : ''}`;
}

/** lastModifiedDateTime has 7 fractional digits; event times end in zeros. */
function randomDigits(withZone: boolean): string {
  return withZone ? String(Math.floor(Math.random() * 10_000)).padStart(4, '0') : '0000';
}

export function newGuid(): string {
  return randomUUID();
}
