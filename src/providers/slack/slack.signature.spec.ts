import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from './slack.signature.js';

/**
 * Slack's published example
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack): the secret looks like
 * hex but is used as plain text.
 */
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = (offsetSeconds: number) => new Date((Number(TIMESTAMP) + offsetSeconds) * 1000);

function verify(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  return verifySlackSignature({
    rawBody: Buffer.from(BODY),
    timestamp: TIMESTAMP,
    signature: SIGNATURE,
    secret: SECRET,
    now: AT(30),
    ...overrides,
  });
}

describe('Slack request signatures (v0)', () => {
  it("computes Slack's published test vector", () => {
    expect(signSlackRequest(SECRET, TIMESTAMP, Buffer.from(BODY))).toBe(SIGNATURE);
    expect(verify()).toEqual({ ok: true });
  });

  it('refuses any change to the body, the timestamp, the signature or the secret', () => {
    expect(verify({ rawBody: Buffer.from(BODY.replace('roadrunner', 'coyote')) })).toMatchObject({
      ok: false,
      reason: 'signature mismatch',
    });
    expect(verify({ rawBody: Buffer.from(`${BODY} `) }).ok).toBe(false);
    expect(verify({ timestamp: '1531420619' }).ok).toBe(false);
    expect(verify({ signature: SIGNATURE.replace(/.$/, '4') }).ok).toBe(false);
    expect(verify({ secret: SECRET.toUpperCase() }).ok).toBe(false);
    // The secret is text: decoding it as hex gives another key.
    const hexKeyed = signSlackRequest(
      Buffer.from(SECRET.replace(/[^0-9a-f]/g, '0'), 'hex').toString('latin1'),
      TIMESTAMP,
      Buffer.from(BODY),
    );
    expect(verify({ signature: hexKeyed }).ok).toBe(false);
  });

  it('signs the exact bytes: an escaped slash re-serialized as "/" no longer verifies', () => {
    const raw = Buffer.from('{"url":"https:\\/\\/example.com\\/a"}');
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = signSlackRequest('s3cret', ts, raw);
    const base = { timestamp: ts, signature, secret: 's3cret', now: new Date() };
    expect(verifySlackSignature({ ...base, rawBody: raw })).toEqual({ ok: true });
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
    expect(verifySlackSignature({ ...base, rawBody: reserialized }).ok).toBe(false);
  });

  it('refuses timestamps more than 5 minutes away, in the past and in the future', () => {
    expect(verify({ now: AT(300) }).ok).toBe(true);
    expect(verify({ now: AT(-300) }).ok).toBe(true);
    expect(verify({ now: AT(301) })).toEqual({ ok: false, reason: 'timestamp outside window' });
    expect(verify({ now: AT(-301) })).toEqual({ ok: false, reason: 'timestamp outside window' });
  });

  it('refuses missing or malformed headers without comparing', () => {
    expect(verify({ timestamp: undefined })).toEqual({ ok: false, reason: 'bad timestamp' });
    expect(verify({ timestamp: '1531420618.5' }).ok).toBe(false);
    expect(verify({ signature: undefined })).toEqual({ ok: false, reason: 'bad signature' });
    expect(verify({ signature: 'v1=' + SIGNATURE.slice(3) }).ok).toBe(false);
    expect(verify({ signature: SIGNATURE.toUpperCase() }).ok).toBe(false);
  });
});
