import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * Standard Webhooks (https://www.standardwebhooks.com/) through the reference library
 * `standardwebhooks`: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}", sent as
 * `webhook-signature: v1,<base64>`. This file only maps our configuration and types onto it;
 * the key decoding, the HMAC, the encoding and the verification are the library's.
 */

const SECRET_PREFIX = 'whsec_';

/**
 * The library's Webhook for PDECK_EVENTS_SECRET. A `whsec_<base64>` secret (the spec's format,
 * what the reference libraries generate) is handed over as is: the library base64-decodes it and
 * throws on characters outside the standard alphabet (URL-safe `-` `_`, spaces) or an empty key,
 * where Node's lenient decoder would have made up a key that no such receiver can load. Any other
 * string is a plain passphrase whose UTF-8 bytes are the key, as this service has always used it;
 * the library takes those bytes with `format: 'raw'`, and a receiver must load such a secret the
 * same way (`new Webhook(utf8Bytes, { format: 'raw' })`).
 */
export function webhookFor(secret: string): Webhook {
  return secret.startsWith(SECRET_PREFIX)
    ? new Webhook(secret)
    : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
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
  const text = utf8Text(body);
  if (text === undefined) {
    // The library signs the text of a Buffer, which would not be the bytes sent.
    throw new TypeError('Standard Webhooks payload must be valid UTF-8');
  }
  return webhookFor(secret).sign(id, new Date(timestamp * 1000), text);
}

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three headers of one delivery attempt. The id stays the same across attempts (the receiver
 * deduplicates on it); the timestamp is the time of this attempt, in Unix seconds.
 */
export function standardWebhookHeaders(input: {
  id: string;
  body: string | Uint8Array;
  secret: string;
  now?: Date;
}): StandardWebhookHeaders {
  const timestamp = Math.floor((input.now ?? new Date()).getTime() / 1000);
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signPayload({ ...input, timestamp }),
  };
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a delivery as a receiver using the reference library does (`Webhook.verify`): the three
 * headers present, the timestamp within 5 minutes of the clock both ways, and at least one `v1`
 * entry of the space-separated signature list matching. Returns false instead of throwing when
 * the delivery does not verify. A body given as bytes that are not valid UTF-8 is rejected:
 * the library compares the decoded text, under which different invalid bytes look the same.
 */
export function verifyStandardWebhook(
  headers: WebhookHeaders,
  body: string | Uint8Array,
  secret: string,
): boolean {
  const text = utf8Text(body);
  if (text === undefined) return false;
  try {
    webhookFor(secret).verify(text, headerRecord(headers), { jsonParse: false });
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8Text(body: string | Uint8Array): string | undefined {
  if (typeof body === 'string') return body;
  try {
    return STRICT_UTF8.decode(body);
  } catch {
    return undefined;
  }
}

const HEADER_NAMES = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** The library reads a record of strings; Fetch Headers and Node's arrays are mapped to one. */
function headerRecord(headers: WebhookHeaders): Record<string, string> {
  const record: Record<string, string> = {};
  for (const name of HEADER_NAMES) {
    const value = header(headers, name);
    if (value !== undefined) record[name] = value;
  }
  return record;
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
