/**
 * Slack message timestamps (`ts`): `"<unix seconds>.<6 digits>"`, the id of a message within its
 * conversation (https://docs.slack.dev/reference/events/message). Compared as microseconds.
 */
export function microsToTs(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros - seconds * 1_000_000).padStart(6, '0')}`;
}

/** `"1712345678.000100"`, `"1712345678.5"` or `"1712345678"` as microseconds; undefined if malformed. */
export function tsToMicros(ts: string): number | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(ts.trim());
  if (!m) return undefined;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}
