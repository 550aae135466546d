import type { ProviderCredentials } from '../../core/config/app-config.js';
import { type ProviderHttpClient } from '../../providers/http/provider-http-client.js';
import { isHttpStatusError, TOKEN_MAX_RESPONSE_BYTES } from '@pdeck/integration-sdk';
import type { OAuth2AuthDescriptor, OAuthToken } from '@pdeck/integration-sdk';

/**
 * What a token endpoint granted, with expiry already turned into an absolute time (our receive
 * time + expires_in: the provider's clock is never trusted), plus the further tokens the
 * descriptor's `linkedTokens` name (Slack's user token), by name.
 */
export interface TokenSet extends OAuthToken {
  linked?: Record<string, OAuthToken>;
}

/**
 * The token endpoint refused the grant (invalid_grant, PKCE mismatch, redirect_uri mismatch,
 * Slack's `ok: false`...). Retrying with the same input cannot help; the user must start again.
 * The message names the OAuth error code and never echoes codes, verifiers or tokens.
 */
export class TokenExchangeError extends Error {
  override readonly name = 'TokenExchangeError';
  readonly httpStatus?: number;

  constructor(
    /** The OAuth error code (RFC 6749 section 5.2) or a short label of ours. */
    readonly oauthError: string,
    message: string,
    options?: { cause?: unknown; httpStatus?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.httpStatus = options?.httpStatus;
  }
}

export interface TokenRequestInput {
  provider: string;
  descriptor: Pick<
    OAuth2AuthDescriptor,
    'tokenUrl' | 'tokenRequestEncoding' | 'clientAuth' | 'linkedTokens'
  >;
  credentials: ProviderCredentials;
  /** The grant: grant_type plus code/redirect_uri/code_verifier or refresh_token. */
  grant: Record<string, string | undefined>;
  operation?: string;
  now?: () => number;
}

/**
 * One token request as the descriptor says (form or JSON body, client auth in the body or HTTP
 * Basic), through ProviderHttpClient so origin overrides, timeouts and safe logging apply; a
 * redirect is refused and the answer is capped at TOKEN_MAX_RESPONSE_BYTES.
 * 5xx, 429 and network failures surface as the client's ProviderError (worth retrying later);
 * any other refusal becomes a TokenExchangeError.
 */
export async function requestTokens(
  http: ProviderHttpClient,
  input: TokenRequestInput,
): Promise<TokenSet> {
  const { descriptor, credentials } = input;
  const headers: Record<string, string> = {};
  const body: Record<string, string | undefined> = { ...input.grant };
  if (descriptor.clientAuth === 'basic') {
    headers.authorization = basicAuth(credentials.clientId, credentials.clientSecret);
  } else {
    body.client_id = credentials.clientId;
    body.client_secret = credentials.clientSecret;
  }
  const json = descriptor.tokenRequestEncoding === 'json' ? dropUndefined(body) : undefined;
  const form = descriptor.tokenRequestEncoding === 'json' ? undefined : body;
  let data: unknown;
  try {
    const res = await http.request<unknown>({
      provider: input.provider,
      method: 'POST',
      url: descriptor.tokenUrl,
      headers,
      json,
      form,
      operation: input.operation ?? 'oauth2.token',
      // The request carries the client secret and a code or refresh token: never re-sent.
      redirect: 'error',
      maxResponseBytes: TOKEN_MAX_RESPONSE_BYTES,
    });
    data = res.data;
  } catch (err) {
    if (!isHttpStatusError(err)) throw err;
    const code = oauthErrorCode(err.json) ?? `http_${err.status}`;
    throw new TokenExchangeError(code, describe(input.provider, code, err.json), {
      cause: err,
      httpStatus: err.status,
    });
  }
  return parseTokenResponse(
    input.provider,
    data,
    input.now?.() ?? Date.now(),
    input.descriptor.linkedTokens,
  );
}

/**
 * Reads a 2xx token answer; exported for unit tests of the provider shapes. `linkedFields` maps a
 * stored name to the response field holding a further token (Slack `{ user: 'authed_user' }`); such
 * a field without an access_token (Slack's `authed_user` when no user scope was asked) is skipped.
 */
export function parseTokenResponse(
  provider: string,
  data: unknown,
  receivedAt: number,
  linkedFields: Record<string, string> = {},
): TokenSet {
  const body = (data ?? {}) as Record<string, unknown>;
  // Slack answers refusals with HTTP 200 and `ok: false`.
  if (body.ok === false || typeof body.error === 'string') {
    const code = oauthErrorCode(body) ?? 'token_request_refused';
    throw new TokenExchangeError(code, describe(provider, code, body));
  }
  const primary = readToken(body, receivedAt);
  if (!primary) {
    throw new TokenExchangeError(
      'invalid_token_response',
      `${provider} token endpoint answered without an access_token`,
    );
  }
  const linked: Record<string, OAuthToken> = {};
  for (const [name, field] of Object.entries(linkedFields)) {
    const nested = body[field];
    const token = nested && typeof nested === 'object' ? readToken(nested, receivedAt) : null;
    if (token) linked[name] = token;
  }
  return Object.keys(linked).length ? { ...primary, linked } : primary;
}

function readToken(source: object, receivedAt: number): OAuthToken | null {
  const body = source as Record<string, unknown>;
  if (typeof body.access_token !== 'string' || body.access_token === '') return null;
  const expiresIn = Number(body.expires_in);
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    expiresAt:
      Number.isFinite(expiresIn) && expiresIn > 0
        ? new Date(receivedAt + expiresIn * 1000).toISOString()
        : undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

/** RFC 6749 section 2.3.1: id and secret are form-encoded before being joined and base64'd. */
export function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function dropUndefined(body: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
/** A run this long without spaces could be a token or code echoed back; such text is dropped. */
const SECRET_LIKE = /[A-Za-z0-9_\-.~+/=]{24,}/;

function oauthErrorCode(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' && ERROR_CODE.test(error) ? error : undefined;
}

function describe(provider: string, code: string, body: unknown): string {
  const raw = (body as { error_description?: unknown } | undefined)?.error_description;
  const safe =
    typeof raw === 'string' && raw.length <= 200 && !SECRET_LIKE.test(raw) ? `: ${raw}` : '';
  return `${provider} token endpoint refused the request (${code})${safe}`;
}
