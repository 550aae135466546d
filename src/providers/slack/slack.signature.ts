import { hmac, safeEqual } from '@pdeck/integration-sdk';

/** Requests older or newer than this are refused (replays, skewed senders). */
export const SIGNATURE_WINDOW_SECONDS = 300;

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Slack's request signing, version 0
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack): HMAC-SHA256, keyed with
 * the signing secret as plain UTF-8 text, of `v0:<X-Slack-Request-Timestamp>:<raw body>`, hex,
 * prefixed `v0=`, compared in constant time. The body is the exact bytes received: Slack escapes
 * `/` as `\/`, so any re-serialization breaks the signature. The 5-minute window applies both
 * ways (a request from the future is refused too, unlike Bolt's stale-only check).
 */
export function verifySlackSignature(input: {
  rawBody: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  secret: string;
  now: Date;
}): SignatureVerdict {
  const { timestamp, signature } = input;
  if (!timestamp || !TIMESTAMP.test(timestamp)) return { ok: false, reason: 'bad timestamp' };
  const skew = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(timestamp));
  if (skew > SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'timestamp outside window' };
  if (!signature || !SIGNATURE.test(signature)) return { ok: false, reason: 'bad signature' };
  const expected = signSlackRequest(input.secret, timestamp, input.rawBody);
  return safeEqual(signature, expected)
    ? { ok: true }
    : { ok: false, reason: 'signature mismatch' };
}

/** `v0=<hex>` for a body; exported for tests that sign like Slack. */
export function signSlackRequest(secret: string, timestamp: string, rawBody: Buffer): string {
  return `v0=${hmac('sha256', secret, `v0:${timestamp}:`, rawBody).toString('hex')}`;
}
