import { createHash } from 'node:crypto';
import { SandboxNotFoundError } from '@pdeck/integration-sdk/sandbox';
import { EventStore } from './event-store.js';

export type AccessRole = 'freeBusyReader' | 'reader' | 'writer' | 'owner';
export const ACCESS_ROLE_RANK: Record<AccessRole, number> = {
  freeBusyReader: 0,
  reader: 1,
  writer: 2,
  owner: 3,
};

/** A calendar and its events. Shared calendars are one object listed by several accounts. */
export interface CalendarData {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  store: EventStore;
  /** Bumped to invalidate every sync token of this calendar (410 fullSyncRequired). */
  syncEpoch: number;
  /** Stable per watched collection, as Google's `resourceId` is. */
  resourceId: string;
}

/** One account's calendarList entry: per-user view settings of a calendar. */
export interface ListEntry {
  calendarId: string;
  accessRole: AccessRole;
  primary: boolean;
  selected: boolean;
  hidden: boolean;
  colorId: string;
  backgroundColor: string;
  foregroundColor: string;
  /** Per user in Google: the list entry carries them, and events.list echoes them. */
  defaultReminders: Array<{ method: string; minutes: number }>;
  summaryOverride?: string;
  deleted?: boolean;
  /** calendarList change sequence of this entry (for calendarList sync tokens). */
  seq: number;
  etag: string;
}

export interface Account {
  email: string;
  name: string;
  timeZone: string;
  entries: Map<string, ListEntry>;
  listSeq: number;
  listEpoch: number;
}

const COLORS: Array<[string, string]> = [
  ['14', '#9fe1e7'],
  ['7', '#42d692'],
  ['17', '#9a9cff'],
  ['4', '#fa573c'],
  ['22', '#f691b2'],
];

export class CalendarDirectory {
  readonly calendars = new Map<string, CalendarData>();
  readonly accounts = new Map<string, Account>();

  constructor(private readonly clock: () => number) {}

  /** Creates the account and its primary calendar (id = the email, as Google does). */
  addAccount(email: string, name: string, timeZone: string): Account {
    const account: Account = {
      email,
      name,
      timeZone,
      entries: new Map(),
      listSeq: 0,
      listEpoch: 0,
    };
    this.accounts.set(email, account);
    this.createCalendar({ id: email, summary: email, timeZone });
    this.addToList(email, email, {
      accessRole: 'owner',
      primary: true,
      defaultReminders: [{ method: 'popup', minutes: 10 }],
    });
    return account;
  }

  createCalendar(input: {
    id: string;
    summary: string;
    timeZone: string;
    description?: string;
  }): CalendarData {
    const existing = this.calendars.get(input.id);
    if (existing) return existing;
    const calendar: CalendarData = {
      ...input,
      store: new EventStore(this.clock),
      syncEpoch: 0,
      resourceId: createHash('sha1')
        .update(`resource:${input.id}`)
        .digest('base64url')
        .slice(0, 27),
    };
    this.calendars.set(calendar.id, calendar);
    return calendar;
  }

  /** Adds (or updates) the calendar in the account's calendarList. */
  addToList(
    email: string,
    calendarId: string,
    opts: Partial<Omit<ListEntry, 'calendarId' | 'seq' | 'etag'>> = {},
  ): ListEntry {
    const account = this.requireAccount(email);
    const previous = account.entries.get(calendarId);
    const [colorId, backgroundColor] = COLORS[account.entries.size % COLORS.length];
    const seq = ++account.listSeq;
    const entry: ListEntry = {
      calendarId,
      accessRole: 'reader',
      primary: false,
      selected: true,
      hidden: false,
      colorId,
      backgroundColor,
      foregroundColor: '#000000',
      defaultReminders: [],
      ...previous,
      ...opts,
      seq,
      etag: `"${Math.max(this.clock(), 1)}${String(seq).padStart(3, '0')}"`,
    };
    account.entries.set(calendarId, entry);
    return entry;
  }

  requireAccount(email: string): Account {
    const account = this.accounts.get(email);
    if (!account) throw new SandboxNotFoundError(`unknown sandbox account ${email}`);
    return account;
  }

  /** The account's view of a calendar; `primary` means the account's own calendar. */
  resolve(
    email: string,
    calendarId: string,
  ): { calendar: CalendarData; entry: ListEntry } | undefined {
    const account = this.accounts.get(email);
    const id = calendarId === 'primary' ? email : calendarId;
    const entry = account?.entries.get(id);
    const calendar = this.calendars.get(id);
    if (!entry || entry.deleted || !calendar) return undefined;
    return { calendar, entry };
  }

  /** Every calendar this account can see, for admin helpers that take "all calendars". */
  calendarsOf(email: string): CalendarData[] {
    const account = this.requireAccount(email);
    return [...account.entries.keys()].map((id) => this.calendars.get(id)!).filter(Boolean);
  }
}
