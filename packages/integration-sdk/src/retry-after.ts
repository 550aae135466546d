/** Upper bound on a honoured Retry-After, so a broken or hostile header cannot park a sync forever. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// RFC 9110 §5.6.7 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Obsolete forms recipients must still accept. They are only shape-checked here because
// Date.parse alone is far too lenient (it reads "1" or "7 apples" as dates).
const RFC850_DATE = /^[A-Z][a-z]+day, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Reads a Retry-After header (delta-seconds or HTTP-date) into the instant the next attempt is
 * allowed. Returns undefined when the header is absent or unreadable, so the caller picks its own
 * default. Dates in the past mean "now"; anything beyond 24 hours is clamped to 24 hours.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): Date | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const nowMs = now.getTime();

  let atMs: number | undefined;
  if (DELTA_SECONDS.test(text)) {
    // Integers are the standard; decimals appear in the wild, and rounding up never retries early.
    atMs = nowMs + Math.ceil(Number(text)) * 1000;
  } else {
    atMs = parseHttpDate(text);
  }
  if (atMs === undefined || !Number.isFinite(atMs)) return undefined;

  return new Date(Math.min(Math.max(atMs, nowMs), nowMs + MAX_RETRY_AFTER_MS));
}

/**
 * The same rule as parseRetryAfter, as a wait in milliseconds from `now`: 0 for a date in the
 * past, at most MAX_RETRY_AFTER_MS, undefined when the header is absent or unreadable.
 */
export function retryAfterMs(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  const at = parseRetryAfter(value, now);
  return at === undefined ? undefined : at.getTime() - now.getTime();
}

function parseHttpDate(text: string): number | undefined {
  const m = IMF_FIXDATE.exec(text);
  if (m) {
    const [, day, mon, year, hh, mm, ss] = m;
    const month = MONTHS.indexOf(mon);
    if (month < 0) return undefined;
    const ms = Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss));
    // Date.UTC rolls over out-of-range fields (31 Feb -> 3 Mar); reject instead of guessing.
    const d = new Date(ms);
    if (d.getUTCDate() !== Number(day) || d.getUTCHours() !== Number(hh)) return undefined;
    if (d.getUTCMinutes() !== Number(mm) || d.getUTCSeconds() !== Number(ss)) return undefined;
    return ms;
  }
  if (RFC850_DATE.test(text)) return finite(Date.parse(text));
  // asctime carries no zone but is defined as GMT; without the suffix Date.parse uses local time.
  if (ASCTIME_DATE.test(text)) return finite(Date.parse(`${text} GMT`));
  return undefined;
}

function finite(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms : undefined;
}
