import { createHmac, randomBytes } from 'node:crypto';

/**
 * OAuth 1.0a request signing (RFC 5849, HMAC-SHA1 only: the one method Trello uses).
 * Pure functions, so the fake server in tests verifies with exactly the same rules.
 */

export type ParamPairs = ReadonlyArray<readonly [string, string]>;

/**
 * RFC 5849 3.6: everything except the RFC 3986 unreserved set is escaped, with uppercase hex.
 * encodeURIComponent also leaves !'()* alone, which OAuth requires to be escaped.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** RFC 5849 3.4.1.2: lowercase scheme and host, no default port, no query or fragment. */
export function baseStringUri(url: string | URL): string {
  // URL already lowercases scheme and host and drops :80 / :443 for http / https.
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname || '/'}`;
}

/**
 * RFC 5849 3.4.1.3.2: encode every name and value, sort by name then value, join with & and =.
 * oauth_signature is never part of its own input, so it is dropped here (the verifier passes
 * everything it received).
 */
export function normalizeParameters(pairs: ParamPairs): string {
  return pairs
    .filter(([name]) => name !== 'oauth_signature')
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * RFC 5849 3.4.1: METHOD&uri&params. `params` are the oauth_* parameters plus the decoded
 * form-body parameters; the query of `url` is added here, decoded as form data (3.4.1.3.1).
 */
export function signatureBaseString(
  method: string,
  url: string | URL,
  params: ParamPairs | Record<string, string>,
): string {
  const pairs: Array<readonly [string, string]> = [...new URL(url).searchParams];
  pairs.push(...(Array.isArray(params) ? (params as ParamPairs) : Object.entries(params)));
  return [
    method.toUpperCase(),
    percentEncode(baseStringUri(url)),
    percentEncode(normalizeParameters(pairs)),
  ].join('&');
}

/** RFC 5849 3.4.2: key is encoded consumer secret & encoded token secret (empty when none). */
export function hmacSha1Signature(
  baseString: string,
  consumerSecret: string,
  tokenSecret?: string,
): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret ?? '')}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

/** RFC 5849 3.5.1: `OAuth k="v", ...` with names and values percent-encoded. */
export function buildAuthorizationHeader(params: Record<string, string>): string {
  const pairs = Object.entries(params).map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`);
  return `OAuth ${pairs.join(', ')}`;
}

export interface SignRequestInput {
  method: string;
  /** The URL the request is actually sent to (after any origin override): the server signs that. */
  url: string | URL;
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  /** Protocol parameters beyond the standard set, e.g. oauth_callback or oauth_verifier. */
  extraOAuthParams?: Record<string, string>;
  /** Form-encoded body parameters; they are covered by the signature. */
  body?: Record<string, string>;
  nonce?: string;
  timestamp?: number | string;
}

export interface SignedRequest {
  authorization: string;
  /** All protocol parameters sent, oauth_signature included. */
  oauthParams: Record<string, string>;
}

export function signRequest(input: SignRequestInput): SignedRequest {
  const oauthParams: Record<string, string> = {
    oauth_consumer_key: input.consumerKey,
    oauth_nonce: input.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(input.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
    ...(input.token !== undefined ? { oauth_token: input.token } : {}),
    ...input.extraOAuthParams,
  };
  const params: Array<readonly [string, string]> = [
    ...Object.entries(oauthParams),
    ...Object.entries(input.body ?? {}),
  ];
  const base = signatureBaseString(input.method, input.url, params);
  oauthParams.oauth_signature = hmacSha1Signature(base, input.consumerSecret, input.tokenSecret);
  return { authorization: buildAuthorizationHeader(oauthParams), oauthParams };
}

/** Parses an `Authorization: OAuth ...` header into decoded parameters (realm dropped). */
export function parseAuthorizationHeader(
  header: string | undefined,
): Record<string, string> | undefined {
  const match = /^OAuth\s+(.*)$/is.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const out: Record<string, string> = {};
  for (const part of match[1].split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!m) return undefined;
    const name = decodeURIComponent(m[1]);
    if (name !== 'realm') out[name] = decodeURIComponent(m[2]);
  }
  return out;
}
