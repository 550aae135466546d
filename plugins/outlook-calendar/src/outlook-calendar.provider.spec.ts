import { describe, expect, it } from 'vitest';
import type { BoundProviderRequest, ProviderContext, SyncPage } from '@pdeck/integration-sdk';
import { catalogProblem, HttpStatusError } from '@pdeck/integration-sdk';
import plugin from './index.js';
import { OutlookCalendarProvider } from './outlook-calendar.provider.js';

const G = 'https://graph.microsoft.com/v1.0';
const calendar = { id: 'cal', name: 'Calendar' };

/** A context whose HTTP answers from a table of URL -> body (or status), recording requests. */
function context(answers: Record<string, unknown>) {
  const requests: BoundProviderRequest[] = [];
  const ctx = {
    connectionId: 'c',
    accountId: 'a',
    settings: {},
    credentials: async () => ({ accessToken: 'token' }),
    http: {
      request: async (req: BoundProviderRequest) => {
        requests.push(req);
        const url = String(req.url);
        const answer = answers[url];
        if (answer === undefined || typeof answer === 'number') {
          throw new HttpStatusError({
            provider: 'outlook-calendar',
            method: 'GET',
            status: typeof answer === 'number' ? answer : 404,
            url,
            headers: new Headers({ 'content-type': 'application/json' }),
            bodyText: JSON.stringify({ error: { code: 'SyncStateNotFound' } }),
          });
        }
        return { status: 200, headers: new Headers(), data: answer, url };
      },
    },
  } as unknown as ProviderContext;
  return { ctx, requests };
}

async function all(pages: AsyncIterable<SyncPage>): Promise<SyncPage[]> {
  const out: SyncPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('OutlookCalendarProvider', () => {
  const provider = new OutlookCalendarProvider();

  it('is a valid plugin with its catalog static and on the instance', () => {
    expect(plugin.provider).toBe(OutlookCalendarProvider);
    expect(catalogProblem(OutlookCalendarProvider.catalog)).toBeUndefined();
    expect(provider.catalog).toBe(OutlookCalendarProvider.catalog);
    expect(provider.catalog.auth).not.toHaveProperty('revokeUrl');
  });

  it('labels the account with mail, else userPrincipalName', async () => {
    const url = `${G}/me?$select=id,displayName,mail,userPrincipalName`;
    const personal = context({
      [url]: { id: 'u1', mail: null, userPrincipalName: 'bob@outlook.example' },
    });
    expect(await provider.fetchIdentity(personal.ctx)).toEqual({
      accountId: 'u1',
      label: 'bob@outlook.example',
    });
  });

  it('syncs only the default calendar, following calendar pages', async () => {
    const { ctx } = context({
      [`${G}/me/calendars?$top=100`]: {
        value: [{ id: 'h', name: 'Holidays' }],
        '@odata.nextLink': `${G}/me/calendars?$skip=1`,
      },
      [`${G}/me/calendars?$skip=1`]: {
        value: [{ id: 'd', name: 'Calendar', isDefaultCalendar: true }],
      },
    });
    expect(await provider.listResources(ctx)).toEqual([{ id: 'd', name: 'Calendar' }]);
  });

  it('full pass: a window, next links stored for resuming, the delta link on the last page', async () => {
    const next = `${G}/me/calendarView/delta?$skiptoken=s1`;
    const delta = `${G}/me/calendarView/delta?$deltatoken=d1`;
    const answers: Record<string, unknown> = {
      [next]: { value: [{ id: 'b' }], '@odata.deltaLink': delta },
    };
    const { ctx, requests } = context(
      new Proxy(answers, {
        get: (target, key: string) =>
          target[key] ??
          (key.includes('startDateTime=')
            ? { value: [{ id: 'a' }], '@odata.nextLink': next }
            : undefined),
      }),
    );
    const pages = await all(provider.sync(ctx, calendar, null, 'full'));
    const first = new URL(String(requests[0].url));
    const start = Date.parse(first.searchParams.get('startDateTime')!);
    const end = Date.parse(first.searchParams.get('endDateTime')!);
    expect(Math.round((end - start) / 86_400_000)).toBe(395);
    expect(requests[0].headers?.prefer).toMatch(/odata\.maxpagesize=\d+/);
    expect(requests[0].headers?.prefer).toContain('outlook.timezone="UTC"');
    expect(pages[0].cursor).toMatchObject({ nextLink: next });
    expect(pages[0].fullPassComplete).toBe(false);
    expect(pages[1]).toMatchObject({ cursor: { deltaLink: delta }, fullPassComplete: true });
    expect(pages[1].cursor).not.toHaveProperty('nextLink');

    // Resumed from the stored next link: the same window, no new first call.
    const resumed = context({ [next]: { value: [], '@odata.deltaLink': delta } });
    const again = await all(provider.sync(resumed.ctx, calendar, pages[0].cursor, 'full'));
    expect(resumed.requests.map((r) => r.url)).toEqual([next]);
    expect(again[0].cursor).toMatchObject({ start: pages[0].cursor!.start, deltaLink: delta });
  });

  it('incremental: reads the delta link; a dead one or none at all is CURSOR_INVALID', async () => {
    const cursor = {
      start: '2024-01-01T00:00:00Z',
      end: '2025-01-01T00:00:00Z',
      openedAt: new Date().toISOString(),
      deltaLink: `${G}/me/calendarView/delta?$deltatoken=old`,
    };
    const gone = context({ [cursor.deltaLink]: 410 });
    await expect(
      all(provider.sync(gone.ctx, calendar, cursor, 'incremental')),
    ).rejects.toMatchObject({ code: 'CURSOR_INVALID' });
    const none = context({});
    await expect(
      all(provider.sync(none.ctx, calendar, { ...cursor, deltaLink: undefined }, 'incremental')),
    ).rejects.toMatchObject({ code: 'CURSOR_INVALID' });
    expect(none.requests).toEqual([]);
    const fresh = `${G}/me/calendarView/delta?$deltatoken=new`;
    const ok = context({
      [cursor.deltaLink]: {
        value: [{ id: 'x', '@removed': { reason: 'deleted' } }],
        '@odata.deltaLink': fresh,
      },
    });
    const [page] = await all(provider.sync(ok.ctx, calendar, cursor, 'incremental'));
    expect(page).toMatchObject({ deletions: [{ externalId: 'x' }], cursor: { deltaLink: fresh } });
    expect(page.fullPassComplete).toBe(false);
  });

  it('moves the window (full pass due) once it is older than a week', () => {
    const now = new Date('2024-06-10T00:00:00Z');
    const at = (openedAt: string) => ({ start: 'a', end: 'b', openedAt });
    expect(provider.fullPassDue(at('2024-06-04T00:00:00Z'), now)).toBe(false);
    expect(provider.fullPassDue(at('2024-06-02T23:59:00Z'), now)).toBe(true);
    expect(provider.fullPassDue({}, now)).toBe(true);
  });

  it('links by iCalUId with the organizer, except occurrences and exceptions', () => {
    const item = (raw: object) => ({
      id: 'i',
      provider: 'outlook-calendar',
      kind: 'event' as const,
      externalId: 'e',
      containerId: null,
      title: null,
      body: null,
      url: null,
      raw,
    });
    const organizer = { emailAddress: { address: 'Sam@Contoso.com' } };
    expect(
      provider.linkEvidence(item({ iCalUId: 'U1', type: 'singleInstance', organizer })),
    ).toEqual([{ key: 'ical:U1', role: 'identity', qualifier: 'sam@contoso.com' }]);
    expect(provider.linkEvidence(item({ iCalUId: 'U1', type: 'occurrence', organizer }))).toEqual(
      [],
    );
    expect(provider.linkEvidence(item({ type: 'singleInstance' }))).toEqual([]);
  });
});
