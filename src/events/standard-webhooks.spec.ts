import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  signPayload,
  standardWebhookHeaders,
  verifyStandardWebhook,
  webhookFor,
} from './standard-webhooks.js';

// Test vector of the Standard Webhooks reference libraries (e.g. javascript/src/index.test.ts).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = new Date(TIMESTAMP * 1000);

/** HMAC-SHA256 of the signed content with Node's crypto: what this service computed before. */
function nodeSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

function headers(signature: string, timestamp = TIMESTAMP): Record<string, string> {
  return {
    'webhook-id': ID,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
}

/** The library's receiver side: true when Webhook.verify accepts, false when it rejects. */
function libraryAccepts(receiver: Webhook, body: string, h: Record<string, string>): boolean {
  try {
    receiver.verify(body, h, { jsonParse: false });
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  }
}

describe('signPayload', () => {
  it('matches the reference test vector', () => {
    expect(signPayload({ id: ID, timestamp: TIMESTAMP, body: BODY, secret: SECRET })).toBe(
      EXPECTED,
    );
  });

  it('signs bytes and strings alike', () => {
    const bytes = new TextEncoder().encode(BODY);
    expect(signPayload({ id: ID, timestamp: TIMESTAMP, body: bytes, secret: SECRET })).toBe(
      EXPECTED,
    );
    expect(
      signPayload({ id: ID, timestamp: TIMESTAMP, body: Buffer.from(BODY), secret: SECRET }),
    ).toBe(EXPECTED);
  });

  it('keys a whsec_ secret with its base64-decoded bytes, as before the library', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(signPayload({ id: ID, timestamp: TIMESTAMP, body: BODY, secret })).toBe(
      nodeSignature(key, ID, TIMESTAMP, BODY),
    );
  });

  it('keys any other secret with its UTF-8 bytes, as before the library', () => {
    for (const secret of [
      'plain-secret-of-24-chars',
      'abcdefghijklmnop',
      'pässwörd-mit-ümläuten',
    ]) {
      expect(signPayload({ id: ID, timestamp: TIMESTAMP, body: BODY, secret }), secret).toBe(
        nodeSignature(Buffer.from(secret, 'utf8'), ID, TIMESTAMP, BODY),
      );
    }
  });

  it('refuses a whsec_ secret that is not standard base64 or is empty', () => {
    for (const secret of ['whsec_abc-defg_hijklmno', 'whsec_abcd efgh ijkl', 'whsec_']) {
      expect(() => webhookFor(secret), secret).toThrow();
      expect(() => signPayload({ id: ID, timestamp: TIMESTAMP, body: BODY, secret })).toThrow();
    }
  });

  it('refuses bytes that are not UTF-8 (the library would sign their decoded text)', () => {
    const bytes = Uint8Array.from([0x7b, 0xff, 0x7d]);
    expect(() =>
      signPayload({ id: ID, timestamp: TIMESTAMP, body: bytes, secret: SECRET }),
    ).toThrow(/UTF-8/);
  });
});

describe('standardWebhookHeaders', () => {
  it('builds the three headers for the given time', () => {
    const at = new Date(TIMESTAMP * 1000 + 999);
    expect(standardWebhookHeaders({ id: ID, body: BODY, secret: SECRET, now: at })).toEqual(
      headers(EXPECTED),
    );
  });

  describe('against the library as the receiver', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-03-01T10:00:00Z'));
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const body = JSON.stringify({
      type: 'items.changed',
      timestamp: '2026-03-01T09:59:58.000Z',
      data: { connectionId: 'c-1', userId: 'u-1', note: 'é ✓ 😀' },
    });

    it('a whsec_ secret: Webhook.verify accepts, and rejects any single mutated byte', () => {
      const h = { ...standardWebhookHeaders({ id: 'evt_1', body, secret: SECRET }) };
      expect(h['webhook-timestamp']).toBe(String(Date.parse('2026-03-01T10:00:00Z') / 1000));
      const receiver = new Webhook(SECRET);
      expect(libraryAccepts(receiver, body, h)).toBe(true);

      const bytes = Buffer.from(body, 'utf8');
      for (let i = 0; i < bytes.length; i++) {
        const mutated = Buffer.from(bytes);
        mutated[i] ^= 0x01;
        expect(libraryAccepts(receiver, mutated.toString('utf8'), h), `body byte ${i}`).toBe(false);
      }
      const sig = h['webhook-signature'];
      for (let i = 3; i < sig.length - 1; i++) {
        const mutated = sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1);
        const tampered = { ...h, 'webhook-signature': mutated };
        expect(libraryAccepts(receiver, body, tampered), `signature char ${i}`).toBe(false);
      }
      expect(libraryAccepts(receiver, body, { ...h, 'webhook-id': 'evt_2' })).toBe(false);
      const later = String(Number(h['webhook-timestamp']) + 1);
      expect(libraryAccepts(receiver, body, { ...h, 'webhook-timestamp': later })).toBe(false);
    });

    it('a plain secret: Webhook.verify accepts with the same bytes loaded as format raw', () => {
      const secret = 'plain-secret-of-24-chars';
      const h = { ...standardWebhookHeaders({ id: 'evt_1', body, secret }) };
      const receiver = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
      expect(libraryAccepts(receiver, body, h)).toBe(true);
      expect(libraryAccepts(receiver, `${body} `, h)).toBe(false);
      // Loaded without format raw, the library base64-decodes the passphrase: another key.
      expect(() => new Webhook(secret)).toThrow();
      expect(
        libraryAccepts(new Webhook('abcdefghijklmnop'), body, {
          ...standardWebhookHeaders({ id: 'evt_1', body, secret: 'abcdefghijklmnop' }),
        }),
      ).toBe(false);
    });
  });
});

describe('verifyStandardWebhook', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(AT);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts the reference vector', () => {
    expect(verifyStandardWebhook(headers(EXPECTED), BODY, SECRET)).toBe(true);
    expect(verifyStandardWebhook(headers(EXPECTED), Buffer.from(BODY), SECRET)).toBe(true);
  });

  it('accepts Fetch Headers, mixed-case header names and Node header arrays', () => {
    const h = new Headers(headers(EXPECTED));
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(true);
    const upper = {
      'Webhook-Id': ID,
      'Webhook-Timestamp': String(TIMESTAMP),
      'Webhook-Signature': EXPECTED,
    };
    expect(verifyStandardWebhook(upper, BODY, SECRET)).toBe(true);
    expect(verifyStandardWebhook({ ...headers(EXPECTED), 'webhook-id': [ID] }, BODY, SECRET)).toBe(
      true,
    );
  });

  it('rejects a tampered body, id or timestamp', () => {
    expect(verifyStandardWebhook(headers(EXPECTED), '{"test": 2432232315}', SECRET)).toBe(false);
    expect(
      verifyStandardWebhook({ ...headers(EXPECTED), 'webhook-id': 'msg_other' }, BODY, SECRET),
    ).toBe(false);
    expect(verifyStandardWebhook(headers(EXPECTED, TIMESTAMP + 1), BODY, SECRET)).toBe(false);
  });

  it('rejects a wrong secret', () => {
    const other = `whsec_${Buffer.from('another secret of 24 b.').toString('base64')}`;
    expect(verifyStandardWebhook(headers(EXPECTED), BODY, other)).toBe(false);
  });

  it('rejects timestamps more than 5 minutes away, both ways', () => {
    const h = headers(EXPECTED);
    const at = (sec: number) => vi.setSystemTime(new Date((TIMESTAMP + sec) * 1000));
    at(300);
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(true);
    at(-300);
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(true);
    at(301);
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(false);
    at(-301);
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(false);
    at(3600);
    expect(verifyStandardWebhook(h, BODY, SECRET)).toBe(false);
  });

  it('accepts any valid one of several space-separated signatures', () => {
    const bogus = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(verifyStandardWebhook(headers(`${bogus} ${EXPECTED}`), BODY, SECRET)).toBe(true);
    expect(verifyStandardWebhook(headers(`v1a,abc ${EXPECTED} v2,xyz`), BODY, SECRET)).toBe(true);
    expect(verifyStandardWebhook(headers(`${bogus} v1,short`), BODY, SECRET)).toBe(false);
  });

  it('rejects missing or malformed headers', () => {
    expect(verifyStandardWebhook({}, BODY, SECRET)).toBe(false);
    expect(verifyStandardWebhook(headers(EXPECTED.slice(3)), BODY, SECRET)).toBe(false);
    expect(verifyStandardWebhook(headers(EXPECTED, Number.NaN), BODY, SECRET)).toBe(false);
  });

  it('rejects a body whose bytes are not UTF-8, whatever the signature', () => {
    // The library compares the decoded text, in which 0xff and 0xfe both become U+FFFD: a
    // signature made for one would pass for the other. Refusing such bodies closes that.
    const signed = Buffer.from([0x7b, 0xff, 0x7d]);
    const swapped = Buffer.from([0x7b, 0xfe, 0x7d]);
    const signature = new Webhook(SECRET).sign(ID, AT, signed);
    expect(libraryAccepts(new Webhook(SECRET), swapped.toString(), headers(signature))).toBe(true);
    expect(verifyStandardWebhook(headers(signature), signed, SECRET)).toBe(false);
    expect(verifyStandardWebhook(headers(signature), swapped, SECRET)).toBe(false);
  });
});
