import { describe, expect, it } from 'vitest';
import { type NormalizedItem, normalizedItem } from '@pdeck/integration-sdk';
import {
  dedupeDeletions,
  dedupeUpserts,
  deletionColumns,
  serializeUpserts,
} from './item-page-input.js';

function item(externalId: string, externalVersion: string, title = externalId): NormalizedItem {
  return normalizedItem({
    kind: 'task',
    externalId,
    externalVersion,
    containerId: 'board-1',
    containerName: 'Board',
    title,
  });
}

describe('dedupeUpserts', () => {
  it('keeps one row per item, the highest version, whatever the order', () => {
    const page = [
      item('a', '002', 'a2'),
      item('b', '001'),
      item('a', '003', 'a3'),
      item('a', '001'),
    ];
    const out = dedupeUpserts(page);
    expect(out.map((i) => [i.externalId, i.title])).toEqual([
      ['a', 'a3'],
      ['b', 'b'],
    ]);
  });

  it('treats the same external id of another kind as another item', () => {
    expect(dedupeUpserts([item('a', '1'), { ...item('a', '1'), kind: 'event' }])).toHaveLength(2);
  });
});

describe('dedupeDeletions', () => {
  it('prefers an unversioned deletion, then the highest version', () => {
    const d = (externalVersion?: string) => ({
      kind: 'task' as const,
      externalId: 'x',
      externalVersion,
    });
    expect(dedupeDeletions([d('002'), d(), d('009')])).toEqual([d()]);
    expect(dedupeDeletions([d('002'), d('009'), d('003')])).toEqual([d('009')]);
  });
});

describe('serializeUpserts', () => {
  it('writes plain JSON when nothing needs cleaning', () => {
    const page = [item('a', '1', 'héllo 🗓️ "quoted" \\ back')];
    expect(serializeUpserts(page)).toBe(JSON.stringify(page));
  });

  it('drops NUL and replaces lone surrogates, which Postgres rejects', () => {
    const page = [{ ...item('a\u0000b', '1', 'x\ud800y'), raw: { text: 'nul\u0000', ok: '🗓️' } }];
    const parsed = JSON.parse(serializeUpserts(page)) as NormalizedItem[];
    expect(parsed[0].externalId).toBe('ab');
    expect(parsed[0].title).toBe('x\ufffdy');
    expect(parsed[0].raw).toEqual({ text: 'nul', ok: '🗓️' });
    expect(deletionColumns([{ kind: 'task', externalId: 'a\u0000b' }])).toEqual([
      ['task'],
      ['ab'],
      [null],
    ]);
  });
});
