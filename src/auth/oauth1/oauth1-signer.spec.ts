import { describe, expect, it } from 'vitest';
import {
  baseStringUri,
  buildAuthorizationHeader,
  hmacSha1Signature,
  normalizeParameters,
  parseAuthorizationHeader,
  percentEncode,
  signatureBaseString,
  signRequest,
} from './oauth1-signer.js';

describe('percentEncode', () => {
  it('leaves only RFC 3986 unreserved characters alone', () => {
    expect(percentEncode('AZaz09-._~')).toBe('AZaz09-._~');
    expect(percentEncode("!'()* +/=&%")).toBe('%21%27%28%29%2A%20%2B%2F%3D%26%25');
    expect(percentEncode('é☃')).toBe('%C3%A9%E2%98%83');
  });
});

describe('baseStringUri', () => {
  it('lowercases scheme and host, drops default ports, query and fragment', () => {
    expect(baseStringUri('HTTP://EXAMPLE.COM:80/r%20v/X?id=123#frag')).toBe(
      'http://example.com/r%20v/X',
    );
    expect(baseStringUri('https://www.example.net:8080/?q=1')).toBe(
      'https://www.example.net:8080/',
    );
    expect(baseStringUri('https://trello.com:443/1/OAuthGetRequestToken')).toBe(
      'https://trello.com/1/OAuthGetRequestToken',
    );
  });
});

describe('RFC 5849 section 3.4.1.1 example', () => {
  const url = 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b';
  // Body `c2&a3=2+q`, decoded as form data (the + is a space).
  const body: Array<[string, string]> = [...new URLSearchParams('c2&a3=2+q')];
  const oauth: Array<[string, string]> = [
    ['oauth_consumer_key', '9djdj82h48djs9d2'],
    ['oauth_token', 'kkk9d7dh3k39sjv7'],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', '137131201'],
    ['oauth_nonce', '7d8f3e4a'],
    // Excluded from the base string by definition.
    ['oauth_signature', 'djosJKDKJSD8743243/jdk33klY='],
  ];

  it('normalizes the parameters exactly as the RFC shows', () => {
    const query: Array<[string, string]> = [...new URL(url).searchParams];
    expect(normalizeParameters([...query, ...oauth, ...body])).toBe(
      'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2' +
        '&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201' +
        '&oauth_token=kkk9d7dh3k39sjv7',
    );
  });

  it('builds the RFC signature base string', () => {
    expect(signatureBaseString('post', url, [...oauth, ...body])).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D' +
        '%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce' +
        '%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26' +
        'oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });
});

describe('Twitter "Creating a signature" documented example', () => {
  const consumerSecret = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw';
  const tokenSecret = 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE';
  const input = {
    method: 'POST',
    url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
    consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
    consumerSecret,
    token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    tokenSecret,
    body: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' },
    nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
    timestamp: 1318622958,
  };
  const documentedBase =
    'POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue' +
    '%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2' +
    'pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26' +
    'oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26' +
    'status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520' +
    'request%2521';

  it('signs the documented base string to the documented signature', () => {
    expect(hmacSha1Signature(documentedBase, consumerSecret, tokenSecret)).toBe(
      'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
    );
  });

  it('signRequest reproduces the base string and signature from the inputs', () => {
    const { oauthParams, authorization } = signRequest(input);
    const { oauth_signature: signature, ...rest } = oauthParams;
    expect(
      signatureBaseString('POST', input.url, [
        ...Object.entries(rest),
        ...Object.entries(input.body),
      ]),
    ).toBe(documentedBase);
    expect(signature).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
    expect(authorization).toContain('oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"');
    expect(parseAuthorizationHeader(authorization)).toEqual(oauthParams);
  });
});

describe('signRequest', () => {
  it('uses a fresh 16-byte hex nonce and a seconds timestamp, and includes extra params', () => {
    const a = signRequest({
      method: 'POST',
      url: 'https://trello.com/1/OAuthGetRequestToken',
      consumerKey: 'key',
      consumerSecret: 'secret',
      extraOAuthParams: { oauth_callback: 'http://localhost/cb?state=x' },
    });
    const b = signRequest({
      method: 'POST',
      url: 'https://x.test/',
      consumerKey: 'k',
      consumerSecret: 's',
    });
    expect(a.oauthParams.oauth_nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(a.oauthParams.oauth_nonce).not.toBe(b.oauthParams.oauth_nonce);
    expect(Math.abs(Number(a.oauthParams.oauth_timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(a.oauthParams.oauth_callback).toBe('http://localhost/cb?state=x');
    expect(a.oauthParams).not.toHaveProperty('oauth_token');
    expect(a.authorization).toContain('oauth_callback="http%3A%2F%2Flocalhost%2Fcb%3Fstate%3Dx"');
  });

  it('keys the HMAC with an empty token secret when there is none', () => {
    expect(hmacSha1Signature('base', 'c&s')).toBe(hmacSha1Signature('base', 'c&s', ''));
    expect(hmacSha1Signature('base', 'cs')).not.toBe(hmacSha1Signature('base', 'cs', 't'));
  });
});

describe('authorization header', () => {
  it('round-trips and ignores realm', () => {
    const header = buildAuthorizationHeader({ oauth_token: 'a b', oauth_verifier: 'x/y=' });
    expect(header).toBe('OAuth oauth_token="a%20b", oauth_verifier="x%2Fy%3D"');
    expect(parseAuthorizationHeader(`OAuth realm="Example", ${header.slice(6)}`)).toEqual({
      oauth_token: 'a b',
      oauth_verifier: 'x/y=',
    });
    expect(parseAuthorizationHeader('Bearer abc')).toBeUndefined();
    expect(parseAuthorizationHeader(undefined)).toBeUndefined();
  });
});
