/** One page of a listing: its items and where the next page starts (absent on the last page). */
export interface Page<T, N = string> {
  items: T[];
  next?: N | null;
}

/**
 * Follows a listing from `first` (undefined for the first page) until a page names no next one,
 * yielding each page's items as one batch. Works for page tokens, cursors and next links alike:
 * `N` is whatever the API hands back. A next value equal to the current one ends the walk, so an
 * API that repeats its last cursor cannot loop forever.
 */
export async function* pages<T, N = string>(
  fetchPage: (next: N | undefined) => Promise<Page<T, N>>,
  first?: N,
): AsyncGenerator<T[], void, undefined> {
  let next: N | undefined = first;
  for (;;) {
    const page = await fetchPage(next);
    yield page.items;
    const following = page.next ?? undefined;
    if (following === undefined || following === next) return;
    next = following;
  }
}

/** Every item of a (small) listing, read with `pages`. */
export async function collect<T, N = string>(
  fetchPage: (next: N | undefined) => Promise<Page<T, N>>,
): Promise<T[]> {
  const all: T[] = [];
  for await (const batch of pages(fetchPage)) all.push(...batch);
  return all;
}
