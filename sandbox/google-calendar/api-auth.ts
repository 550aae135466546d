import type {
  OAuth2Fake,
  AccessTokenInfo,
  Reply,
  RequestContext,
} from '@pdeck/integration-sdk/sandbox';
import { errors } from './google-errors.js';

const S = 'https://www.googleapis.com/auth/';

/** Scopes that grant each family of calls (any one suffices), per the method reference pages. */
export const SCOPES = {
  calendarList: [
    `${S}calendar`,
    `${S}calendar.readonly`,
    `${S}calendar.calendarlist`,
    `${S}calendar.calendarlist.readonly`,
  ],
  calendars: [
    `${S}calendar`,
    `${S}calendar.readonly`,
    `${S}calendar.calendars`,
    `${S}calendar.calendars.readonly`,
  ],
  events: [
    `${S}calendar`,
    `${S}calendar.readonly`,
    `${S}calendar.events`,
    `${S}calendar.events.readonly`,
    `${S}calendar.events.owned`,
    `${S}calendar.events.owned.readonly`,
  ],
  userinfo: ['openid', 'email', 'profile', `${S}userinfo.email`, `${S}userinfo.profile`],
};

/** The bearer token's owner, or the 401/403 Google answers instead. */
export function authorizeCall(
  oauth: OAuth2Fake,
  ctx: RequestContext,
  allowed: string[],
): AccessTokenInfo | Reply {
  const header = ctx.req.headers.authorization ?? bearerFromQuery(ctx.query);
  const info = oauth.authenticate(header);
  if (!info) return errors.unauthenticated();
  if (!info.scopes.some((s) => allowed.includes(s))) return errors.insufficientScope();
  return info;
}

export function isReply(value: object): value is Reply {
  return 'status' in value && typeof (value as Reply).status === 'number';
}

/** Google also accepts `?access_token=`; some clients use it for quick checks. */
function bearerFromQuery(query: URLSearchParams): string | undefined {
  const token = query.get('access_token');
  return token ? `Bearer ${token}` : undefined;
}
