import { collect, isHttpStatusError, PAGE_MAX_RESPONSE_BYTES } from '@pdeck/integration-sdk';
import type * as Sdk from '@pdeck/integration-sdk';
import { GRAPH_API, OUTLOOK_CALENDAR_CATALOG } from './outlook-calendar.catalog.js';
import { failure, graph } from './outlook-calendar.http.js';
import { outlookLinkEvidence } from './outlook-calendar.links.js';
import { mapDeltaPage, type GraphEvent } from './outlook-calendar.mapper.js';
import { OutlookCalendarWebhooks } from './outlook-calendar.webhooks.js';

const DAY = 24 * 3600_000;
/** Up to 200 events a page (Graph may send fewer), times in UTC (parsed without a zone table). */
const headers = { prefer: 'odata.maxpagesize=200, outlook.timezone="UTC"' };
type Ctx = Sdk.ProviderContext;
type Me = 'id' | 'mail' | 'userPrincipalName';
type Page<T> = { value?: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
/** The pass's window (30 days back to 365 ahead of `openedAt`) and where to read next. */
type Cursor = Record<'start' | 'end' | 'openedAt', string> & Partial<Record<Link, string>>;
type Link = 'nextLink' | 'deltaLink';

/**
 * The default calendar's events through Graph v1.0 calendarView delta, which expands series into
 * occurrences and exceptions within a window (https://learn.microsoft.com/en-us/graph/api/event-delta).
 */
export class OutlookCalendarProvider implements Sdk.IntegrationProvider {
  static readonly catalog = OUTLOOK_CALENDAR_CATALOG;
  readonly catalog = OUTLOOK_CALENDAR_CATALOG;
  readonly webhooks = new OutlookCalendarWebhooks();
  readonly linkEvidence = outlookLinkEvidence;

  /** `mail` is often null (personal or unlicensed accounts): then the sign-in name. */
  async fetchIdentity(ctx: Ctx): Promise<Sdk.AccountIdentity> {
    const url = `${GRAPH_API}/me?$select=id,displayName,mail,userPrincipalName`;
    const me = await graph<Partial<Record<Me, string>>>(ctx, { operation: 'me.get', url });
    if (typeof me?.id !== 'string' || !me.id) throw failure('no_user_id');
    return { accountId: me.id, label: me.mail || me.userPrincipalName || me.id };
  }

  /**
   * The default calendar only: v1.0 documents delta for /me/calendarView/delta; the per-calendar
   * path is beta-only (UNCONFIRMED for v1.0). Default: isDefaultCalendar, else the first (UNCONFIRMED).
   */
  async listResources(ctx: Ctx): Promise<Sdk.SyncResource[]> {
    type Calendar = { id?: string; name?: string; isDefaultCalendar?: boolean };
    const all = await collect<Calendar>(async (url = `${GRAPH_API}/me/calendars?$top=100`) => {
      const page: Page<Calendar> = await graph(ctx, { operation: 'calendars.list', url });
      const items = (page?.value ?? []).filter((c) => typeof c?.id === 'string' && c.id);
      return { items, next: page?.['@odata.nextLink'] };
    });
    const chosen = all.find((c) => c.isDefaultCalendar === true) ?? all[0];
    return chosen ? [{ id: chosen.id!, name: chosen.name || 'Calendar' }] : [];
  }

  /**
   * Full: a new window, the nextLink as cursor (a crash resumes there), the last deltaLink kept.
   * Incremental: from the deltaLink, also its pages' cursor (a replay is harmless: versions refuse
   * older states). A dead link is CURSOR_INVALID: a full pass follows, sweeping what is gone.
   */
  async *sync(ctx: Ctx, resource: Sdk.SyncResource, cursor: Sdk.SyncCursor | null, mode: string) {
    const full = mode === 'full';
    const stored = readCursor(cursor);
    if (!full && !stored?.deltaLink) throw failure('no_delta_link', 'CURSOR_INVALID');
    const resumed = full ? stored?.nextLink : undefined;
    const { start, end, openedAt, deltaLink } = !full || resumed ? stored! : openWindow(Date.now());
    const window = new URLSearchParams({ startDateTime: start, endDateTime: end });
    const first = `${GRAPH_API}/me/calendarView/delta?${window}`;
    for (let url = (full ? resumed : deltaLink) ?? first; ;) {
      const page = await this.deltaPage(ctx, url, url === resumed);
      const mapped = mapDeltaPage(Array.isArray(page?.value) ? page.value : [], resource);
      const [next, last] = [page?.['@odata.nextLink'], page?.['@odata.deltaLink']];
      // Committing the last page without a delta link would lose the increment.
      if (!next && !last) throw failure('no_delta_link_on_last_page');
      const link = next ? (full ? { nextLink: next } : { deltaLink }) : { deltaLink: last };
      const at = { start, end, openedAt, ...link };
      yield { ...mapped, cursor: at, fullPassComplete: full && !next };
      if (!next) return;
      url = next;
    }
  }

  /** The window moves (a full pass, sweeping what left it) once it is a week old. */
  fullPassDue(cursor: Sdk.SyncCursor, now: Date): boolean {
    return !(now.getTime() - Date.parse(readCursor(cursor)?.openedAt ?? '') <= 7 * DAY);
  }

  private deltaPage(ctx: Ctx, url: string, resumed: boolean) {
    const maxResponseBytes = PAGE_MAX_RESPONSE_BYTES;
    const call = { operation: 'calendarView.delta', url, headers, maxResponseBytes };
    return graph<Page<GraphEvent>>(ctx, call).catch((error: { cause?: unknown }) => {
      // A next link kept across runs may have expired (lifetime undocumented): restart the pass.
      const { cause } = error;
      const dead = resumed && isHttpStatusError(cause) && [400, 404].includes(cause.status);
      throw dead ? failure('next_link_refused', 'CURSOR_INVALID', error) : error;
    });
  }
}

function openWindow(now: number): Cursor {
  const [day, iso] = [Math.floor(now / DAY) * DAY, (ms: number) => new Date(ms).toISOString()];
  return { start: iso(day - 30 * DAY), end: iso(day + 365 * DAY), openedAt: iso(now) };
}

function readCursor(cursor: Sdk.SyncCursor | null): Cursor | null {
  const c = (cursor ?? {}) as Partial<Cursor>;
  const ok = [c.start, c.end, c.openedAt].every((v) => typeof v === 'string' && v);
  return ok ? (c as Cursor) : null;
}
