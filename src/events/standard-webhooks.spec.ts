import { describe, expect, it } from 'vitest';
import { signPayload, signingKey, verifyStandardWebhook } from './standard-webhooks.js';

// Test vector of the Standard Webhooks reference libraries (e.g. javascript/src/index.test.ts).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = new Date(TIMESTAMP * 1000);

function headers(signature: string, timestamp = TIMESTAMP): Record<string, string> {
  return {
    'webhook-id': ID,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
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
  });

  it('uses the UTF-8 bytes of a secret without the whsec_ prefix', () => {
    expect(signingKey('plain-secret')).toEqual(Buffer.from('plain-secret', 'utf8'));
    expect(signingKey(SECRET)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  });
});

describe('verifyStandardWebhook', () => {
  it('accepts the reference vector', () => {
    expect(verifyStandardWebhook(headers(EXPECTED), BODY, SECRET, { now: AT })).toBe(true);
  });

  it('accepts Fetch Headers and mixed-case header names', () => {
    const h = new Headers(headers(EXPECTED));
    expect(verifyStandardWebhook(h, BODY, SECRET, { now: AT })).toBe(true);
    const upper = {
      'Webhook-Id': ID,
      'Webhook-Timestamp': String(TIMESTAMP),
      'Webhook-Signature': EXPECTED,
    };
    expect(verifyStandardWebhook(upper, BODY, SECRET, { now: AT })).toBe(true);
  });

  it('rejects a tampered body, id or timestamp', () => {
    expect(
      verifyStandardWebhook(headers(EXPECTED), '{"test": 2432232315}', SECRET, { now: AT }),
    ).toBe(false);
    expect(
      verifyStandardWebhook({ ...headers(EXPECTED), 'webhook-id': 'msg_other' }, BODY, SECRET, {
        now: AT,
      }),
    ).toBe(false);
    expect(verifyStandardWebhook(headers(EXPECTED, TIMESTAMP + 1), BODY, SECRET, { now: AT })).toBe(
      false,
    );
  });

  it('rejects a wrong secret', () => {
    const other = `whsec_${Buffer.from('another secret of 24 b.').toString('base64')}`;
    expect(verifyStandardWebhook(headers(EXPECTED), BODY, other, { now: AT })).toBe(false);
  });

  it('rejects timestamps outside the tolerance, both ways', () => {
    const h = headers(EXPECTED);
    const later = (sec: number) => new Date((TIMESTAMP + sec) * 1000);
    expect(verifyStandardWebhook(h, BODY, SECRET, { now: later(300) })).toBe(true);
    expect(verifyStandardWebhook(h, BODY, SECRET, { now: later(301) })).toBe(false);
    expect(verifyStandardWebhook(h, BODY, SECRET, { now: later(-301) })).toBe(false);
    expect(verifyStandardWebhook(h, BODY, SECRET, { now: later(3600), toleranceSec: 3600 })).toBe(
      true,
    );
  });

  it('accepts any valid one of several space-separated signatures', () => {
    const bogus = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(verifyStandardWebhook(headers(`${bogus} ${EXPECTED}`), BODY, SECRET, { now: AT })).toBe(
      true,
    );
    expect(
      verifyStandardWebhook(headers(`v1a,abc ${EXPECTED} v2,xyz`), BODY, SECRET, { now: AT }),
    ).toBe(true);
    expect(verifyStandardWebhook(headers(`${bogus} v1,short`), BODY, SECRET, { now: AT })).toBe(
      false,
    );
  });

  it('rejects missing or malformed headers', () => {
    expect(verifyStandardWebhook({}, BODY, SECRET, { now: AT })).toBe(false);
    expect(verifyStandardWebhook(headers(EXPECTED.slice(3)), BODY, SECRET, { now: AT })).toBe(
      false,
    );
    expect(verifyStandardWebhook(headers(EXPECTED, Number.NaN), BODY, SECRET, { now: AT })).toBe(
      false,
    );
  });
});
