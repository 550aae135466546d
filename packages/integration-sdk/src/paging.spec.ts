import { describe, expect, it } from 'vitest';
import { collect, type Page, pages } from './paging.js';

/** A listing of `total` numbers served `size` at a time, with string page tokens. */
function listing(total: number, size: number) {
  const asked: Array<string | undefined> = [];
  const fetchPage = async (token: string | undefined): Promise<Page<number>> => {
    asked.push(token);
    const start = token ? Number(token) : 0;
    const items = Array.from({ length: Math.min(size, total - start) }, (_, i) => start + i);
    const next = start + size < total ? String(start + size) : undefined;
    return { items, next };
  };
  return { asked, fetchPage };
}

describe('pages', () => {
  it('follows next tokens to the end, one batch per page', async () => {
    const { asked, fetchPage } = listing(7, 3);
    const batches: number[][] = [];
    for await (const batch of pages(fetchPage)) batches.push(batch);
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(asked).toEqual([undefined, '3', '6']);
  });

  it('resumes from a saved token', async () => {
    const { fetchPage } = listing(7, 3);
    const batches: number[][] = [];
    for await (const batch of pages(fetchPage, '3')) batches.push(batch);
    expect(batches).toEqual([[3, 4, 5], [6]]);
  });

  it('stops when an API repeats its cursor instead of looping', async () => {
    let calls = 0;
    const stuck = async (): Promise<Page<number>> => ({ items: [calls++], next: 'same' });
    expect(await collect(stuck)).toEqual([0, 1]);
  });

  it('reads a whole listing with collect', async () => {
    expect(await collect(listing(5, 2).fetchPage)).toEqual([0, 1, 2, 3, 4]);
  });
});
