/**
 * Sends provider traffic to replacement origins (local fakes in tests and development) without
 * the provider code knowing. Keys and values must be bare origins: a path in the replacement
 * would silently change every request path, so it is rejected up front.
 */
export class OriginMap {
  private readonly map: ReadonlyMap<string, string>;

  constructor(entries: Record<string, string> = {}) {
    const map = new Map<string, string>();
    for (const [from, to] of Object.entries(entries)) {
      map.set(toOrigin(from, 'source'), toOrigin(to, 'replacement'));
    }
    this.map = map;
  }

  get size(): number {
    return this.map.size;
  }

  /** Returns a new URL; the input is never mutated, since callers may reuse URL objects. */
  rewrite(url: string | URL): URL {
    const parsed = new URL(url);
    const target = this.map.get(parsed.origin);
    if (target === undefined) return parsed;
    return new URL(`${parsed.pathname}${parsed.search}${parsed.hash}`, target);
  }
}

function toOrigin(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`OriginMap: ${what} '${value}' is not a URL`);
  }
  if (url.origin === 'null') throw new Error(`OriginMap: ${what} '${value}' has no origin`);
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new Error(`OriginMap: ${what} '${value}' must be a bare origin (scheme://host[:port])`);
  }
  // URL normalises case and default ports, so "https://X.com:443/" and "https://x.com" match.
  return url.origin;
}
