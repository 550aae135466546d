import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/): HMAC-SHA256 over
 * "{webhook-id}.{webhook-timestamp}.{body}", sent as `webhook-signature: v1,<base64>`.
 */

const SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key. A `whsec_<base64>` secret (the spec's format, what the reference libraries
 * generate) is base64-decoded, as the reference libraries do. Any other string is used as its
 * UTF-8 bytes, so an operator can set a plain passphrase without encoding it; note that the
 * reference libraries would base64-decode such a secret instead, so PDeck should be given a
 * `whsec_` secret whenever it verifies with one of them.
 */
export function signingKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

export interface SignInput {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string | Uint8Array;
  secret: string;
}

/** The `webhook-signature` value: `v1,<base64 HMAC-SHA256>`. */
export function signPayload({ id, timestamp, body, secret }: SignInput): string {
  return `v1,${hmac(signingKey(secret), id, String(timestamp), body).toString('base64')}`;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Maximum distance between webhook-timestamp and now, both ways (replay protection). */
  toleranceSec?: number;
  now?: Date;
}

/**
 * Checks a delivery. The signature header may list several space-separated signatures (the
 * sender signs with old and new secrets during a rotation); one valid `v1` entry suffices.
 */
export function verifyStandardWebhook(
  headers: WebhookHeaders,
  body: string | Uint8Array,
  secret: string,
  { toleranceSec = 300, now = new Date() }: VerifyOptions = {},
): boolean {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSec) return false;

  const expected = hmac(signingKey(secret), id, timestamp, body);
  let valid = false;
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const candidate = Buffer.from(value, 'base64');
    // timingSafeEqual needs equal lengths; the length of a MAC is not a secret. No early exit,
    // so the time taken does not reveal which entry matched.
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) valid = true;
  }
  return valid;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}
