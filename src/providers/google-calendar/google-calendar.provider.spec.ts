import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { startRecordingServer, type SeenRequest } from '../../../test/support/recording-server.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../../core/config/app-config.js';
import { standaloneContextFactory } from '../testing.js';
import {
  isProviderError,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
} from '@pdeck/integration-sdk';
import { GoogleCalendarProvider } from './google-calendar.provider.js';

type Seen = SeenRequest;
type Route = (seen: Seen) => [number, unknown];

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const ERRORS = fixture('errors.json');

let fake: { origin: string; close(): Promise<void> };
let origin: string;
let route: Route;
let seen: Seen[];
let tokenReads: number;
const provider = new GoogleCalendarProvider();

beforeAll(async () => {
  Logger.overrideLogger(false); // request logs are the HTTP client's concern, not this file's
  fake = await startRecordingServer((entry) => {
    seen.push(entry);
    return route(entry);
  });
  origin = fake.origin;
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  seen = [];
  tokenReads = 0;
  route = () => [404, ERRORS.notFound];
});

function context(settings: Record<string, unknown> = {}): ProviderContext {
  const config = {
    providerOrigins: {
      'https://www.googleapis.com': origin,
      'https://oauth2.googleapis.com': origin,
    },
  } as unknown as ResolvedAppConfig;
  return standaloneContextFactory(config).create({
    provider: 'google-calendar',
    connectionId: 'conn-1',
    accountId: 'alice@example.com',
    settings,
    credentials: async () => {
      tokenReads++;
      return { accessToken: `access-${tokenReads}`, refreshToken: 'refresh-1' };
    },
  });
}

async function collect(cursor: SyncCursor | null, mode: SyncMode): Promise<SyncPage[]> {
  const pages: SyncPage[] = [];
  const resource = { id: 'team#1@group.calendar.google.com', name: 'Team' };
  for await (const page of provider.sync(context(), resource, cursor, mode)) pages.push(page);
  return pages;
}

async function failure(run: Promise<unknown>): Promise<{ code: string; detail?: string }> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isProviderError(error)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

const EVENTS_PATH = '/calendar/v3/calendars/team%231%40group.calendar.google.com/events';

describe('identity and resources', () => {
  it('reads the account from the primary calendar entry', async () => {
    route = () => [
      200,
      { kind: 'calendar#calendarListEntry', id: 'alice@example.com', primary: true },
    ];
    const identity = await provider.fetchIdentity(context());
    expect(identity).toEqual({ accountId: 'alice@example.com', label: 'alice@example.com' });
    expect(seen[0]).toMatchObject({
      path: '/calendar/v3/users/me/calendarList/primary',
      auth: 'Bearer access-1',
    });
  });

  const pages: Record<string, unknown> = {
    '': {
      items: [
        { id: 'team@group.calendar.google.com', summary: 'Team', selected: true },
        { id: 'hidden@group.calendar.google.com', summary: 'Hidden', selected: true, hidden: true },
      ],
      nextPageToken: 'p2',
    },
    p2: {
      items: [
        { id: 'alice@example.com', summary: 'alice@example.com', primary: true, selected: true },
        {
          id: 'holidays@group.v.calendar.google.com',
          summary: 'Holidays',
          summaryOverride: 'Feiertage',
        },
      ],
    },
  };

  it('lists the primary and the shown calendars across pages, primary first', async () => {
    route = (s) => [200, pages[s.query.pageToken ?? '']];
    const resources = await provider.listResources(context());
    expect(resources).toEqual([
      { id: 'alice@example.com', name: 'alice@example.com' },
      { id: 'team@group.calendar.google.com', name: 'Team' },
    ]);
    expect(seen.map((s) => s.query)).toEqual([
      { maxResults: '250', showHidden: 'true', minAccessRole: 'reader' },
      { maxResults: '250', showHidden: 'true', minAccessRole: 'reader', pageToken: 'p2' },
    ]);
  });

  it('takes exactly the calendars named in settings.calendarIds', async () => {
    route = (s) => [200, pages[s.query.pageToken ?? '']];
    const ids = ['holidays@group.v.calendar.google.com', 'hidden@group.calendar.google.com'];
    const resources = await provider.listResources(context({ calendarIds: ids }));
    expect(resources).toEqual([
      { id: 'hidden@group.calendar.google.com', name: 'Hidden' },
      { id: 'holidays@group.v.calendar.google.com', name: 'Feiertage' },
    ]);
  });
});

describe('sync', () => {
  it('runs a full pass over two pages, resumable by page token, ending with the sync token', async () => {
    const last = fixture('events-incremental-last-page.json');
    route = (s) => [200, s.query.pageToken ? last : fixture('events-full-page.json')];
    const pages = await collect(null, 'full');
    expect(
      pages.map((p) => [p.upserts.length, p.deletions.length, p.cursor, p.fullPassComplete]),
    ).toEqual([
      [5, 0, { pageToken: 'CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA' }, undefined],
      [1, 1, { syncToken: 'CPDAlvWDx70CEPDAlvWDx70CGAU=' }, true],
    ]);
    expect(seen.map((s) => [s.path, s.query])).toEqual([
      [EVENTS_PATH, { maxResults: '2500' }],
      [EVENTS_PATH, { maxResults: '2500', pageToken: 'CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA' }],
    ]);
    // A fresh token per request: a long pass outlives one access token.
    expect(seen.map((s) => s.auth)).toEqual(['Bearer access-1', 'Bearer access-2']);
    expect(pages[0].upserts[0].containerId).toBe('team#1@group.calendar.google.com');
  });

  it('resumes a full pass from a stored page token', async () => {
    route = () => [200, fixture('events-incremental-last-page.json')];
    const pages = await collect({ pageToken: 'resume-here' }, 'full');
    expect(seen[0].query).toEqual({ maxResults: '2500', pageToken: 'resume-here' });
    expect(pages.at(-1)).toMatchObject({ fullPassComplete: true });
  });

  it('lists increments with the sync token alone and restarts from it, not from a page', async () => {
    route = (s) =>
      s.query.pageToken
        ? [200, fixture('events-cancellations.json')]
        : [200, { items: [], nextPageToken: 'inc-p2' }];
    const pages = await collect({ syncToken: 'stored-sync' }, 'incremental');
    expect(seen.map((s) => s.query)).toEqual([
      { maxResults: '2500', syncToken: 'stored-sync' },
      { maxResults: '2500', syncToken: 'stored-sync', pageToken: 'inc-p2' },
    ]);
    expect(pages.map((p) => p.cursor)).toEqual([
      { syncToken: 'stored-sync' },
      { syncToken: 'CPDAlvWDx70CEPDAlvWDx70CGAY=' },
    ]);
    expect(pages.every((p) => !p.fullPassComplete)).toBe(true);
    expect(pages[1].deletions).toHaveLength(2);
  });

  it('turns 410 fullSyncRequired into CURSOR_INVALID', async () => {
    route = () => [410, ERRORS.fullSyncRequired];
    const error = await failure(collect({ syncToken: 'expired' }, 'incremental'));
    expect(error).toMatchObject({ code: 'CURSOR_INVALID', detail: 'fullSyncRequired' });
  });

  it('refuses an incremental run without a stored sync token, before any request', async () => {
    const error = await failure(collect({ pageToken: 'x' }, 'incremental'));
    expect(error.code).toBe('CURSOR_INVALID');
    expect(seen).toEqual([]);
  });

  it('restarts the pass when a resumed page token is refused, but not for other 400s', async () => {
    route = () => [400, ERRORS.badRequest];
    expect((await failure(collect({ pageToken: 'stale' }, 'full'))).code).toBe('CURSOR_INVALID');
    expect((await failure(collect(null, 'full'))).code).toBe('UNKNOWN');
  });

  it('never commits a last page without nextSyncToken', async () => {
    route = () => [200, { items: [{ id: 'e1', updated: '2026-03-01T00:00:00Z' }] }];
    const pages: SyncPage[] = [];
    const error = await failure(
      (async () => {
        const resource = { id: 'c', name: 'c' };
        for await (const page of provider.sync(context(), resource, null, 'full')) pages.push(page);
      })(),
    );
    expect(error.detail).toBe('no_next_sync_token');
    expect(pages).toEqual([]);
  });
});

describe('revoke', () => {
  it('posts the refresh token as a form body, never in the URL, as Google documents', async () => {
    route = () => [200, undefined];
    await provider.revoke(context());
    expect(seen).toEqual([expect.objectContaining({ method: 'POST', path: '/revoke', query: {} })]);
    expect(Object.fromEntries(new URLSearchParams(seen[0].body))).toEqual({ token: 'refresh-1' });
  });

  it('refuses a redirect of the revocation endpoint', async () => {
    route = () => [302, undefined];
    const error = await failure(provider.revoke(context()));
    expect(error.detail).toBe('redirect_refused');
    expect(seen).toHaveLength(1);
  });
});
