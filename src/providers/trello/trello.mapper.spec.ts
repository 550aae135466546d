import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isNewerVersion } from '../../items/item-page-input.js';
import {
  type BoardSnapshot,
  cardStatus,
  cardVersion,
  isoVersion,
  isVisible,
  mapCard,
  MIN_VERSION,
} from './trello.mapper.js';
import type { TrelloCard } from './trello.types.js';

/** An example `GET /1/boards/{id}/cards?fields=...` answer: documented fields, made-up values. */
const CARDS = JSON.parse(
  readFileSync(new URL('./fixtures/cards.json', import.meta.url), 'utf8'),
) as TrelloCard[];

const BOARD: BoardSnapshot = {
  id: 'board-1',
  name: 'Product',
  lists: new Map([
    ['65f1c27fe4b0a1b2c3d4e001', { id: '65f1c27fe4b0a1b2c3d4e001', name: 'Doing', closed: false }],
    ['65f1c283e4b0a1b2c3d4e002', { id: '65f1c283e4b0a1b2c3d4e002', name: ' To Do ' }],
    ['list-archived', { id: 'list-archived', name: 'Old', closed: true }],
  ]),
  members: new Map([
    ['5a8c1f0e2d3b4c5a6b7c8d9e', { id: '5a8c1f0e2d3b4c5a6b7c8d9e', username: 'ana' }],
  ]),
};

describe('mapCard', () => {
  it('maps the documented card shape to a task', () => {
    const item = mapCard(CARDS[0], BOARD, null)!;
    expect(item).toMatchObject({
      kind: 'task',
      externalId: '65f1c2a9e4b0a1b2c3d4e5f6',
      externalVersion: '2026-03-04T09:41:17.512Z',
      containerId: 'board-1',
      containerName: 'Product',
      title: 'Write onboarding docs',
      body: null,
      status: 'Doing',
      startsAt: null,
      endsAt: null,
      allDay: false,
      dueAt: new Date('2026-03-12T16:00:00.000Z'),
      url: 'https://trello.com/c/AbCd1234',
      assignees: ['ana'],
      labels: [],
      externalUpdatedAt: new Date('2026-03-04T09:41:17.512Z'),
    });
    expect(item.raw).toMatchObject({
      id: '65f1c2a9e4b0a1b2c3d4e5f6',
      list: { id: '65f1c27fe4b0a1b2c3d4e001', name: 'Doing' },
    });
  });

  it('maps the second documented card: no due date, no members, trimmed list name', () => {
    const item = mapCard(CARDS[1], BOARD, null)!;
    expect(item.dueAt).toBeNull();
    expect(item.assignees).toEqual([]);
    expect(item.status).toBe('To Do');
  });

  it('maps body, start, labels (colour when unnamed) and unknown members as ids', () => {
    const card: TrelloCard = {
      ...CARDS[0],
      desc: 'Steps **1-3**',
      start: '2026-03-10T08:00:00.000Z',
      idMembers: ['5a8c1f0e2d3b4c5a6b7c8d9e', 'unknown-member'],
      labels: [
        { id: 'l1', name: 'Bug', color: 'red' },
        { id: 'l2', name: '', color: 'green' },
        { id: 'l3', name: null, color: null },
        { id: 'l4', name: 'Bug', color: 'blue' },
      ],
    };
    const item = mapCard(card, BOARD, null)!;
    expect(item.body).toBe('Steps **1-3**');
    expect(item.startsAt).toEqual(new Date('2026-03-10T08:00:00.000Z'));
    expect(item.labels).toEqual(['Bug', 'green']);
    expect(item.assignees).toEqual(['ana', 'unknown-member']);
  });

  it('skips a card without an id and falls back to url without shortUrl', () => {
    expect(mapCard({ name: 'x' }, BOARD, null)).toBeNull();
    const item = mapCard({ id: 'c', url: 'https://trello.com/c/x/1-x' }, BOARD, null)!;
    expect(item.url).toBe('https://trello.com/c/x/1-x');
    expect(item.status).toBeNull();
    expect(item.externalVersion).toBe(MIN_VERSION);
  });
});

describe('status rule and visibility', () => {
  it('is done when the due date is complete, whatever the list', () => {
    expect(cardStatus({ ...CARDS[0], dueComplete: true }, BOARD)).toBe('done');
    expect(cardStatus(CARDS[0], BOARD)).toBe('Doing');
  });

  it('hides archived cards and cards of archived lists', () => {
    expect(isVisible(CARDS[0], BOARD)).toBe(true);
    expect(isVisible({ ...CARDS[0], closed: true }, BOARD)).toBe(false);
    expect(isVisible({ ...CARDS[0], idList: 'list-archived' }, BOARD)).toBe(false);
    // A list created after the lists were read: kept (its next change brings the name).
    expect(isVisible({ ...CARDS[0], idList: 'list-new' }, BOARD)).toBe(true);
  });
});

describe('versions', () => {
  it('are fixed-width ISO instants whose byte order is time order', () => {
    const times = [
      '2026-03-04T09:41:17.512Z',
      '2026-03-04T09:41:17.5Z', // shorter input
      '2026-03-04T10:41:17+01:00', // offset input
      '2026-03-04T09:41:18.000Z',
    ];
    const versions = times.map((t) => isoVersion(t)!);
    expect(versions.map((v) => v.length)).toEqual([24, 24, 24, 24]);
    expect(versions[1]).toBe('2026-03-04T09:41:17.500Z');
    expect(versions[2]).toBe('2026-03-04T09:41:17.000Z');
    expect(isNewerVersion(versions[0], versions[1])).toBe(true);
    expect(isNewerVersion(versions[3], versions[0])).toBe(true);
    expect(isoVersion('yesterday')).toBeNull();
    expect(isoVersion(null)).toBeNull();
  });

  it('are the later of dateLastActivity and the board watermark', () => {
    const card = CARDS[0];
    expect(cardVersion(card, null)).toBe('2026-03-04T09:41:17.512Z');
    expect(cardVersion(card, '2026-03-01T00:00:00.000Z')).toBe('2026-03-04T09:41:17.512Z');
    // A list renamed after the card's last activity: the re-read card must win over the stored one.
    const stored = cardVersion(card, null);
    const afterRename = cardVersion(card, '2026-03-05T12:00:00.000Z');
    expect(afterRename).toBe('2026-03-05T12:00:00.000Z');
    expect(isNewerVersion(afterRename, stored)).toBe(true);
  });
});
