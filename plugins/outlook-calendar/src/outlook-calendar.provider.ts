import { isHttpStatusError, PAGE_MAX_RESPONSE_BYTES, ProviderError } from '@pdeck/integration-sdk';
import type { AccountIdentity, IntegrationProvider, ProviderContext } from '@pdeck/integration-sdk';
import type { SyncCursor, SyncMode, SyncPage, SyncResource } from '@pdeck/integration-sdk';
import { GRAPH_API, OUTLOOK_CALENDAR_CATALOG } from './outlook-calendar.catalog.js';
import { failure, graph } from './outlook-calendar.http.js';
import { outlookLinkEvidence } from './outlook-calendar.links.js';
import { mapDeltaPage, type GraphEvent } from './outlook-calendar.mapper.js';
import { OutlookCalendarWebhooks } from './outlook-calendar.webhooks.js';

const DAY = 24 * 3600_000;
/** Events per delta page we ask for (`Prefer: odata.maxpagesize`); Graph may send fewer. */
export const DELTA_PAGE_SIZE = 200;
type Page<T> = { value?: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
/** The window of the pass (30 days back to 365 ahead of `openedAt`), and where to read next. */
type Cursor = {
  start: string;
  end: string;
  openedAt: string;
  nextLink?: string;
  deltaLink?: string;
};

/**
 * Outlook Calendar through Graph v1.0: the default calendar's events, read with calendarView
 * delta (https://learn.microsoft.com/en-us/graph/api/event-delta), which expands recurring
 * series into their occurrences and exceptions within a time window.
 */
export class OutlookCalendarProvider implements IntegrationProvider {
  static readonly catalog = OUTLOOK_CALENDAR_CATALOG;
  readonly catalog = OUTLOOK_CALENDAR_CATALOG;
  readonly webhooks = new OutlookCalendarWebhooks();
  readonly linkEvidence = outlookLinkEvidence;

  /** `mail` is often null (personal or unlicensed accounts): then the sign-in name. */
  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    type Me = { id?: string; mail?: string | null; userPrincipalName?: string };
    const url = `${GRAPH_API}/me?$select=id,displayName,mail,userPrincipalName`;
    const me = await graph<Me>(ctx, { operation: 'me.get', url });
    if (typeof me?.id !== 'string' || !me.id) throw failure('no_user_id');
    return { accountId: me.id, label: me.mail || me.userPrincipalName || me.id };
  }

  /**
   * The default calendar only: v1.0 documents delta for /me/calendarView/delta (the default
   * calendar); the per-calendar path is on beta only, UNCONFIRMED for v1.0, so not used. The
   * default is the entry flagged isDefaultCalendar, else the first listed (UNCONFIRMED).
   */
  async listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    type Calendar = { id?: string; name?: string; isDefaultCalendar?: boolean };
    const all: Calendar[] = [];
    let url: string | undefined = `${GRAPH_API}/me/calendars?$top=100`;
    while (url) {
      const page: Page<Calendar> = await graph(ctx, { operation: 'calendars.list', url });
      all.push(...(page?.value ?? []).filter((c) => typeof c?.id === 'string' && c.id));
      url = page?.['@odata.nextLink'];
    }
    const chosen = all.find((c) => c.isDefaultCalendar === true) ?? all[0];
    return chosen ? [{ id: chosen.id!, name: chosen.name || 'Calendar' }] : [];
  }

  /**
   * Full pass: a new window, pages followed by @odata.nextLink (stored, so a crash resumes there),
   * the last page's @odata.deltaLink kept. Incremental: the stored deltaLink, which its pages keep
   * as the cursor (a replay after a crash is harmless: versions refuse older states). A dead link
   * (410, syncStateNotFound, resyncRequired) is CURSOR_INVALID: the engine runs a full pass, whose
   * sweep removes what was not seen again.
   */
  async *sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    const stored = readCursor(cursor);
    if (mode === 'incremental' && !stored?.deltaLink)
      throw failure('no_delta_link', 'CURSOR_INVALID');
    const resumed = mode === 'full' ? stored?.nextLink : undefined;
    const w = mode === 'incremental' || resumed ? stored! : openWindow(Date.now());
    const window = { start: w.start, end: w.end, openedAt: w.openedAt };
    const first = new URLSearchParams({ startDateTime: w.start, endDateTime: w.end });
    let url =
      (mode === 'incremental' ? w.deltaLink : resumed) ??
      `${GRAPH_API}/me/calendarView/delta?${first}`;
    for (let page = 0; ; page++) {
      const body = await this.deltaPage(ctx, url, page === 0 && resumed !== undefined);
      const mapped = mapDeltaPage(Array.isArray(body?.value) ? body.value : [], resource);
      const next = body?.['@odata.nextLink'];
      if (next) {
        const at = mode === 'full' ? { nextLink: next } : { deltaLink: w.deltaLink };
        yield { ...mapped, cursor: { ...window, ...at } };
        url = next;
        continue;
      }
      const deltaLink = body?.['@odata.deltaLink'];
      if (!deltaLink) throw failure('no_delta_link_on_last_page'); // the increment would be lost
      yield { ...mapped, cursor: { ...window, deltaLink }, fullPassComplete: mode === 'full' };
      return;
    }
  }

  /** The window moves (a full pass, sweeping what left it) once it is a week old. */
  fullPassDue(cursor: SyncCursor, now: Date): boolean {
    const opened = Date.parse(readCursor(cursor)?.openedAt ?? '');
    return !(now.getTime() - opened <= 7 * DAY);
  }

  private async deltaPage(ctx: ProviderContext, url: string, resumed: boolean) {
    // UTC times (Graph's default too), so dateTimes parse without a zone table.
    const prefer = `odata.maxpagesize=${DELTA_PAGE_SIZE}, outlook.timezone="UTC"`;
    const maxResponseBytes = PAGE_MAX_RESPONSE_BYTES;
    try {
      const call = { operation: 'calendarView.delta', url, maxResponseBytes, headers: { prefer } };
      return await graph<Page<GraphEvent>>(ctx, call);
    } catch (error) {
      const status =
        error instanceof ProviderError && isHttpStatusError(error.cause) ? error.cause.status : 0;
      // A next link kept across runs may have expired (lifetime undocumented): restart the pass.
      if (resumed && (status === 400 || status === 404))
        throw failure('next_link_refused', 'CURSOR_INVALID', error);
      throw error;
    }
  }
}

function openWindow(now: number): Cursor {
  const day = Math.floor(now / DAY) * DAY;
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return {
    start: iso(day - 30 * DAY),
    end: iso(day + 365 * DAY),
    openedAt: new Date(now).toISOString(),
  };
}

function readCursor(cursor: SyncCursor | null): Cursor | null {
  const c = (cursor ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const [start, end, openedAt] = [text(c.start), text(c.end), text(c.openedAt)];
  if (!start || !end || !openedAt) return null;
  return { start, end, openedAt, nextLink: text(c.nextLink), deltaLink: text(c.deltaLink) };
}
