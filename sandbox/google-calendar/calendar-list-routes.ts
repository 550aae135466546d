import { createHash } from 'node:crypto';
import {
  type OAuth2Fake,
  json,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { authorizeCall, isReply, SCOPES } from './api-auth.js';
import {
  ACCESS_ROLE_RANK,
  type AccessRole,
  type Account,
  type CalendarData,
  type CalendarDirectory,
  type ListEntry,
} from './calendar-directory.js';
import { parseBool, parseMax } from './events-query.js';
import { errors } from './google-errors.js';
import {
  decodeToken,
  encodeToken,
  queryFingerprint,
  shortHash,
  type PageTokenData,
  type SyncTokenData,
} from './list-tokens.js';

/** calendarList.list / .get, calendars.get and OIDC userinfo. */
export function mountCalendarListRoutes(
  server: SandboxServer,
  oauth: OAuth2Fake,
  directory: CalendarDirectory,
): void {
  server.route('GET', '/calendar/v3/users/me/calendarList', (ctx) => {
    const auth = authorizeCall(oauth, ctx, SCOPES.calendarList);
    return isReply(auth)
      ? auth
      : listEntries(directory.requireAccount(auth.account), directory, ctx.query);
  });
  server.route('GET', '/calendar/v3/users/me/calendarList/:calendarId', (ctx) => {
    const auth = authorizeCall(oauth, ctx, SCOPES.calendarList);
    if (isReply(auth)) return auth;
    const found = directory.resolve(auth.account, ctx.params.calendarId);
    return found ? json(200, entryToWire(found.entry, found.calendar)) : errors.notFound();
  });
  server.route('GET', '/calendar/v3/calendars/:calendarId', (ctx) => {
    const auth = authorizeCall(oauth, ctx, [...SCOPES.calendars, ...SCOPES.events]);
    if (isReply(auth)) return auth;
    const found = directory.resolve(auth.account, ctx.params.calendarId);
    if (!found) return errors.notFound();
    const { calendar } = found;
    return json(200, {
      kind: 'calendar#calendar',
      etag: found.entry.etag,
      id: calendar.id,
      summary: calendar.summary,
      ...(calendar.description ? { description: calendar.description } : {}),
      timeZone: calendar.timeZone,
      conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
    });
  });
  const userinfo = (ctx: RequestContext): Reply => {
    const auth = authorizeCall(oauth, ctx, SCOPES.userinfo);
    if (isReply(auth)) return auth;
    const account = directory.requireAccount(auth.account);
    const sub = BigInt(`0x${createHash('sha1').update(account.email).digest('hex').slice(0, 16)}`)
      .toString()
      .padStart(21, '1');
    const [given] = account.name.split(' ');
    return json(200, {
      sub,
      name: account.name,
      given_name: given,
      email: account.email,
      email_verified: true,
    });
  };
  server.route('GET', '/oauth2/v3/userinfo', userinfo);
  server.route('GET', '/v1/userinfo', userinfo);
}

function listEntries(
  account: Account,
  directory: CalendarDirectory,
  query: URLSearchParams,
): Reply {
  const syncToken = query.get('syncToken');
  if (syncToken !== null) {
    if (query.has('minAccessRole'))
      return errors.invalidParam(
        "The 'minAccessRole' parameter cannot be used together with syncToken.",
        'minAccessRole',
      );
    for (const p of ['showDeleted', 'showHidden']) {
      if (query.get(p) === 'false')
        return errors.invalidParam(`${p} may not be false with syncToken.`, p);
    }
  }
  const max = parseMax(query.get('maxResults'), 100, 250);
  const showDeleted = parseBool(query, 'showDeleted');
  const showHidden = parseBool(query, 'showHidden');
  if (typeof max !== 'number') return max;
  if (typeof showDeleted !== 'boolean') return showDeleted;
  if (typeof showHidden !== 'boolean') return showHidden;
  const minRole = query.get('minAccessRole') as AccessRole | null;
  if (minRole !== null && !(minRole in ACCESS_ROLE_RANK))
    return errors.invalidParam(`Invalid minAccessRole: ${minRole}`, 'minAccessRole');
  const r = shortHash(`list:${account.email}`);
  const f = queryFingerprint(query);
  let cursor: PageTokenData = {
    r,
    e: account.listEpoch,
    f,
    m: 'f',
    p: 0,
    u: 0,
    n: account.listSeq,
  };
  const pageToken = query.get('pageToken');
  if (pageToken !== null) {
    const token = decodeToken<PageTokenData>(pageToken);
    if (!token || token.r !== r || token.f !== f)
      return errors.invalidParam('Invalid page token value.', 'pageToken');
    cursor = token;
  } else if (syncToken !== null) {
    const token = decodeToken<SyncTokenData>(syncToken);
    if (!token || token.r !== r || token.e !== account.listEpoch || token.s > account.listSeq)
      return errors.fullSyncRequired();
    cursor = { ...cursor, m: 's', t: token.s };
  }
  const matching = [...account.entries.values()].filter((e) =>
    cursor.m === 's'
      ? e.seq > (cursor.t ?? 0) && e.seq <= cursor.n
      : (showDeleted || !e.deleted) &&
        (showHidden || !e.hidden) &&
        (minRole === null || ACCESS_ROLE_RANK[e.accessRole] >= ACCESS_ROLE_RANK[minRole]),
  );
  const items = matching
    .slice(cursor.p, cursor.p + max)
    .map((e) => entryToWire(e, directory.calendars.get(e.calendarId)!));
  const body: Record<string, unknown> = {
    kind: 'calendar#calendarList',
    etag: `"l${account.listSeq}"`,
  };
  const next = cursor.p + max;
  if (next < matching.length) body.nextPageToken = encodeToken({ ...cursor, p: next });
  else body.nextSyncToken = encodeToken({ r, e: cursor.e, s: cursor.n });
  body.items = items;
  return json(200, body);
}

/** Google omits false booleans (`primary`, `selected`, `hidden`, `deleted`): absent means false. */
export function entryToWire(entry: ListEntry, calendar: CalendarData): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: 'calendar#calendarListEntry',
    etag: entry.etag,
    id: calendar.id,
    summary: calendar.summary,
  };
  if (calendar.description) out.description = calendar.description;
  out.timeZone = calendar.timeZone;
  if (entry.summaryOverride) out.summaryOverride = entry.summaryOverride;
  Object.assign(out, {
    colorId: entry.colorId,
    backgroundColor: entry.backgroundColor,
    foregroundColor: entry.foregroundColor,
  });
  if (entry.hidden) out.hidden = true;
  if (entry.selected) out.selected = true;
  out.accessRole = entry.accessRole;
  out.defaultReminders = entry.defaultReminders;
  if (entry.primary) {
    out.notificationSettings = {
      notifications: ['eventCreation', 'eventChange', 'eventCancellation', 'eventResponse'].map(
        (type) => ({ type, method: 'email' }),
      ),
    };
    out.primary = true;
  }
  if (entry.deleted) out.deleted = true;
  out.conferenceProperties = { allowedConferenceSolutionTypes: ['hangoutsMeet'] };
  return out;
}
