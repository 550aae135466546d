import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * RFC 5849 HMAC-SHA1 verification, written independently of the service's signer (the sandbox
 * shares no code with src/): if both agree, the service signs the way the RFC says, not merely
 * the way its own verifier expects.
 */

/** RFC 5849 3.6: only ALPHA / DIGIT / "-" / "." / "_" / "~" stay unescaped. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `OAuth a="b", c="d"` -> decoded params; undefined when it is not an OAuth header. */
export function parseOAuthHeader(header: string | undefined): Record<string, string> | undefined {
  const match = /^OAuth\s+(.*)$/is.exec((header ?? '').trim());
  if (!match) return undefined;
  const out: Record<string, string> = {};
  for (const part of match[1].split(',')) {
    const m = /^\s*([A-Za-z0-9_%.-]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!m) return undefined;
    try {
      const name = decodeURIComponent(m[1]);
      if (name !== 'realm') out[name] = decodeURIComponent(m[2]);
    } catch {
      return undefined;
    }
  }
  return out;
}

/**
 * The signature the client should have sent for this request (RFC 5849 3.4.1): base string of
 * method, the URL without query (scheme and host lowercase, default port dropped), and every
 * oauth_* header param + query param + form body param except oauth_signature, sorted.
 */
export function expectedSignature(input: {
  method: string;
  url: URL;
  oauth: Record<string, string>;
  formBody?: string;
  consumerSecret: string;
  tokenSecret?: string;
}): string {
  const pairs: Array<[string, string]> = [...input.url.searchParams];
  for (const [k, v] of Object.entries(input.oauth)) if (k !== 'oauth_signature') pairs.push([k, v]);
  if (input.formBody) pairs.push(...new URLSearchParams(input.formBody));
  const normalized = pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([ak, av], [bk, bv]) => (ak === bk ? cmp(av, bv) : cmp(ak, bk)))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const baseUri = `${input.url.protocol}//${input.url.host}${input.url.pathname}`;
  const base = [input.method.toUpperCase(), rfc3986(baseUri), rfc3986(normalized)].join('&');
  const key = `${rfc3986(input.consumerSecret)}&${rfc3986(input.tokenSecret ?? '')}`;
  return createHmac('sha1', key).update(base).digest('base64');
}

export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
