import { Injectable } from '@nestjs/common';
import {
  collect,
  isProviderError,
  pages,
  type AccountIdentity,
  type IntegrationProvider,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type SyncResource,
  type WebhookHandler,
  PAGE_MAX_RESPONSE_BYTES,
  TOKEN_MAX_RESPONSE_BYTES,
  providerFailure,
} from '@pdeck/integration-sdk';
import { GOOGLE_CALENDAR_CATALOG, GOOGLE_CALENDAR_ID } from './google-calendar.catalog.js';
import { callGoogle, segment } from './google-calendar.http.js';
import { mapEvents } from './google-calendar.mapper.js';
import type {
  GoogleCalendarList,
  GoogleCalendarListEntry,
  GoogleEventsPage,
} from './google-calendar.types.js';
import { GoogleCalendarWebhooks } from './google-calendar.webhooks.js';
import { googleCalendarLinkEvidence, stringOr } from './google-calendar.links.js';

/** The most events.list returns per page. */
export const EVENTS_PAGE_SIZE = 2500;
/** The most calendarList.list returns per page. */
const CALENDAR_LIST_PAGE_SIZE = 250;

/**
 * Google Calendar: the user's calendars are the sync resources, their events the items.
 * Recurring series are listed unexpanded (no singleEvents): a master carries its recurrence
 * rules, changed instances come as their own events, so a series is a handful of items instead
 * of an unbounded number of instances (docs/integrations/google-calendar.md).
 */
@Injectable()
export class GoogleCalendarProvider implements IntegrationProvider {
  static readonly catalog = GOOGLE_CALENDAR_CATALOG;
  readonly catalog = GOOGLE_CALENDAR_CATALOG;
  readonly webhooks: WebhookHandler = new GoogleCalendarWebhooks();
  readonly linkEvidence = googleCalendarLinkEvidence;

  /**
   * The primary calendar's id is the account's email: common practice among integrations rather
   * than a sentence in Google's guides.
   */
  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    const primary = await callGoogle<GoogleCalendarListEntry>(ctx, {
      operation: 'calendarList.get',
      path: '/users/me/calendarList/primary',
    });
    if (typeof primary?.id !== 'string' || !primary.id) {
      throw providerFailure(
        GOOGLE_CALENDAR_ID,
        'UNKNOWN',
        'primary calendar has no id',
        'no_primary_id',
      );
    }
    return { accountId: primary.id, label: primary.id };
  }

  /**
   * Google's documented revocation: POST https://oauth2.googleapis.com/revoke with `token` as an
   * application/x-www-form-urlencoded body parameter, nothing else (no client credentials, so not
   * the framework's RFC 7009 request). The token stays out of the URL, hence out of access logs
   * and proxies. Revoking the refresh token ends the whole grant; the access token is the
   * fallback when none is stored.
   */
  async revoke(ctx: ProviderContext): Promise<void> {
    const { refreshToken, accessToken } = await ctx.credentials();
    const url = this.catalog.auth.scheme === 'oauth2' ? this.catalog.auth.revokeUrl : undefined;
    if (!url) return;
    await ctx.http.request({
      operation: 'token.revoke',
      method: 'POST',
      url,
      form: { token: refreshToken || accessToken },
      expect: 'none',
      redirect: 'error',
      maxResponseBytes: TOKEN_MAX_RESPONSE_BYTES,
    });
  }

  /**
   * By default the calendars the user shows in Google (`selected`) plus the primary one;
   * `settings.calendarIds` (string[]) replaces that choice with exactly those calendars.
   */
  async listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    const entries = await this.calendarList(ctx);
    const chosen = chosenCalendarIds(ctx.settings);
    const picked = entries.filter((e) =>
      chosen ? chosen.has(e.id) : e.primary === true || (e.selected === true && !e.hidden),
    );
    picked.sort((a, b) => Number(b.primary === true) - Number(a.primary === true));
    return picked.map((e) => ({ id: e.id, name: e.summaryOverride || e.summary || e.id }));
  }

  /**
   * Pages of one calendar. Full pass: no token, resumable from a stored {pageToken}; its last
   * page carries {syncToken}. Incremental: the stored syncToken alone, paged with pageToken.
   */
  async *sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    const syncToken = mode === 'incremental' ? storedSyncToken(cursor) : undefined;
    const resumeFrom = mode === 'full' ? stringOr(cursor?.pageToken) : undefined;
    let resumed = resumeFrom !== undefined;
    const listing = pages<GoogleEventsPage>(async (pageToken) => {
      const page = await this.listEvents(ctx, resource.id, { syncToken, pageToken }, resumed);
      resumed = false;
      return { items: [page], next: stringOr(page.nextPageToken) };
    }, resumeFrom);
    for await (const [page] of listing) {
      const mapped = mapEvents(Array.isArray(page.items) ? page.items : [], {
        id: resource.id,
        name: resource.name,
        timeZone: stringOr(page.timeZone),
      });
      const next = stringOr(page.nextPageToken);
      // An incremental listing restarts from its sync token after a crash rather than from a
      // stored page token: replaying is harmless (versions refuse older states), while a stale
      // page token stored as the cursor could wedge the calendar on every later run.
      if (next) yield { ...mapped, cursor: syncToken ? { syncToken } : { pageToken: next } };
      else {
        yield {
          ...mapped,
          cursor: { syncToken: lastSyncToken(page) },
          fullPassComplete: mode === 'full',
        };
      }
    }
  }

  private async listEvents(
    ctx: ProviderContext,
    calendarId: string,
    tokens: { syncToken?: string; pageToken?: string },
    resumed: boolean,
  ): Promise<GoogleEventsPage> {
    try {
      // The same parameters in both modes: with a syncToken every other parameter must match the
      // full listing (https://developers.google.com/workspace/calendar/api/guides/sync), and
      // showDeleted/singleEvents/time filters are either forbidden with a token or would have to be
      // repeated. Deleted events come with the token anyway; a full pass needs none (the engine
      // sweeps what it did not see).
      return await callGoogle<GoogleEventsPage>(ctx, {
        operation: 'events.list',
        path: `/calendars/${segment(calendarId)}/events`,
        query: { maxResults: EVENTS_PAGE_SIZE, ...tokens },
        // 2,500 events with descriptions and attendees can pass the client's 1 MiB default.
        maxResponseBytes: PAGE_MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      // A page token kept across runs may have expired (its lifetime is undocumented): restart
      // the pass instead of failing on the same token forever.
      if (resumed && isProviderError(error) && error.status === 400) {
        throw providerFailure(
          GOOGLE_CALENDAR_ID,
          'CURSOR_INVALID',
          'stored page token refused',
          'page_token_refused',
          { cause: error, status: 400 },
        );
      }
      throw error;
    }
  }

  private async calendarList(ctx: ProviderContext): Promise<GoogleCalendarListEntry[]> {
    const entries = await collect<GoogleCalendarListEntry>(async (pageToken) => {
      const page = await callGoogle<GoogleCalendarList>(ctx, {
        operation: 'calendarList.list',
        path: '/users/me/calendarList',
        // showHidden so settings.calendarIds can name a hidden calendar. minAccessRole=reader
        // leaves out free/busy-only calendars, whose events carry no details to sync.
        query: {
          maxResults: CALENDAR_LIST_PAGE_SIZE,
          pageToken,
          showHidden: true,
          minAccessRole: 'reader',
        },
      });
      return { items: page?.items ?? [], next: stringOr(page?.nextPageToken) };
    });
    return entries.filter((e) => typeof e?.id === 'string' && !e.deleted);
  }
}

/** `settings.calendarIds` when it is a list of strings (possibly empty: sync nothing). */
function chosenCalendarIds(settings: Record<string, unknown>): Set<string> | null {
  const ids = settings?.calendarIds;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return null;
  return new Set(ids);
}

function storedSyncToken(cursor: SyncCursor | null): string {
  const token = stringOr(cursor?.syncToken);
  if (token) return token;
  // Never list without a token in incremental mode: that would be a full pass without a sweep.
  throw providerFailure(
    GOOGLE_CALENDAR_ID,
    'CURSOR_INVALID',
    'no sync token stored',
    'no_sync_token',
  );
}

/** The last page must carry nextSyncToken; committing without one would lose the increment. */
function lastSyncToken(page: GoogleEventsPage): string {
  const token = stringOr(page.nextSyncToken);
  if (token) return token;
  throw providerFailure(
    GOOGLE_CALENDAR_ID,
    'UNKNOWN',
    'last page has no nextSyncToken',
    'no_next_sync_token',
  );
}
