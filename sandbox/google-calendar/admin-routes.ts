import { empty, json, type Handler, type SandboxServer } from '@pdeck/integration-sdk/sandbox';
import type { ResourceState } from './channels.js';
import type { EventInput } from './event-types.js';
import type { GoogleCalendarFake } from './google-calendar.fake.js';
import type { RateLimitReason } from './google-errors.js';

/**
 * `/__admin/...` for tests, benchmarks and the demo (loopback only, no auth):
 *   GET    /state                                         accounts, calendars, channels, stats
 *   POST   /accounts/:email/calendars                     {summary, id?, timeZone?, accessRole?, hidden?, selected?}
 *   POST   /accounts/:email/calendars/:cal/events         EventInput -> created event (pushes)
 *   PATCH  /accounts/:email/calendars/:cal/events/:id     EventInput patch (pushes)
 *   DELETE /accounts/:email/calendars/:cal/events/:id     cancel (pushes)
 *   POST   /accounts/:email/calendars/:cal/seed-large     {count}
 *   POST   /accounts/:email/invalidate-sync-tokens        {calendarId?} -> later syncTokens get 410
 *   POST   /rate-limit                                    {count?, status?: 403|429, reason?}
 *   GET    /channels, POST /channels/:id/push {state?}, GET /pushes?limit=, POST /pushes/wait
 * plus the core's /stats, /requests, /faults and the OAuth helpers under /oauth/.
 */
export function mountAdminRoutes(server: SandboxServer, fake: GoogleCalendarFake): void {
  const a = (method: string, path: string, handler: Handler): void =>
    server.admin(method, path, handler);
  a('GET', '/state', () => json(200, describeState(fake)));
  a('POST', '/accounts/:email/calendars', ({ params, body }) => {
    const input = (body ?? {}) as Parameters<GoogleCalendarFake['addCalendar']>[1];
    const calendar = fake.addCalendar(params.email, {
      ...input,
      summary: input.summary ?? 'New calendar',
    });
    return json(201, { id: calendar.id, summary: calendar.summary, timeZone: calendar.timeZone });
  });
  a('POST', '/accounts/:email/calendars/:calendarId/events', ({ params, body }) =>
    json(201, fake.createEvent(params.email, params.calendarId, (body ?? {}) as EventInput)),
  );
  a('PATCH', '/accounts/:email/calendars/:calendarId/events/:eventId', ({ params, body }) =>
    json(
      200,
      fake.updateEvent(params.email, params.calendarId, params.eventId, (body ?? {}) as EventInput),
    ),
  );
  a('DELETE', '/accounts/:email/calendars/:calendarId/events/:eventId', ({ params }) =>
    json(200, fake.cancelEvent(params.email, params.calendarId, params.eventId)),
  );
  a('POST', '/accounts/:email/calendars/:calendarId/seed-large', ({ params, body }) => {
    const count = Number((body as { count?: unknown } | undefined)?.count ?? 100_000);
    const calendar = fake.seedLarge(params.email, params.calendarId, count);
    return json(200, { calendarId: calendar.id, count });
  });
  a('POST', '/accounts/:email/invalidate-sync-tokens', ({ params, body }) => {
    const calendarId = (body as { calendarId?: string } | undefined)?.calendarId;
    return json(200, { invalidated: fake.invalidateSyncTokens(params.email, calendarId) });
  });
  a('POST', '/rate-limit', ({ body }) => {
    const b = (body ?? {}) as { count?: number; status?: 403 | 429; reason?: RateLimitReason };
    fake.rateLimitNext(b.count ?? 1, b.status === 429 ? 429 : 403, b.reason);
    return json(201, fake.server.faults.stats());
  });
  a('GET', '/channels', () => json(200, { channels: fake.channels.active() }));
  a('POST', '/channels/:id/push', ({ params, body }) => {
    fake.pushTo(params.id, (body as { state?: ResourceState } | undefined)?.state ?? 'exists');
    return empty(202);
  });
  a('GET', '/pushes', ({ query }) =>
    json(200, { pushes: fake.pushes.log(Number(query.get('limit') ?? 100)) }),
  );
  a('POST', '/pushes/wait', async () => {
    await fake.whenIdle();
    return json(200, fake.pushes.stats());
  });
}

export function describeState(fake: GoogleCalendarFake): Record<string, unknown> {
  const accounts = [...fake.directory.accounts.values()].map((account) => ({
    email: account.email,
    name: account.name,
    timeZone: account.timeZone,
    calendars: [...account.entries.values()].map((entry) => {
      const calendar = fake.directory.calendars.get(entry.calendarId)!;
      return {
        id: calendar.id,
        summary: calendar.summary,
        timeZone: calendar.timeZone,
        accessRole: entry.accessRole,
        primary: entry.primary,
        hidden: entry.hidden,
        selected: entry.selected,
        events: calendar.store.size,
        seq: calendar.store.seq,
        syncEpoch: calendar.syncEpoch,
        resourceId: calendar.resourceId,
      };
    }),
  }));
  return {
    url: fake.url,
    clients: fake.clients.map((c) => ({ clientId: c.clientId, name: c.name })),
    accounts,
    channels: fake.channels.active(),
    stats: fake.stats(),
  };
}
