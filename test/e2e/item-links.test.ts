import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemLinkDto, ItemLinksPageDto } from '../../src/links/dto/item-link.dto.js';
import { INTEGRATIONS } from '../../src/providers/integrations.js';
import { eventually, until } from '@pdeck/integration-sdk/testing';
import type { TestConnection } from '../support/items-fixtures.js';
import {
  calendarEvent,
  connectionOf,
  groupOf,
  jiraIssue,
  linkerCaughtUp,
  liveEntries,
  slackMessage,
  trelloCard,
  writeItems,
} from '../support/links-kit.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

const SITE = 'https://acme.atlassian.net';
const AUTH = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe('cross-source links (detector, groups, split and join)', () => {
  let t: TestApp;
  let ds: DataSource;
  const alice = 'user-links-alice';
  const bob = 'user-links-bob';
  let jira: TestConnection;
  let trello: TestConnection;
  let slack: TestConnection;
  /** Alice's four items about ABC-123, and an unrelated message. */
  const ids = { issue: '', card: '', byUrl: '', byKey: '', unrelated: '' };

  async function api(
    method: string,
    path: string,
    body?: unknown,
    token = true,
  ): Promise<Response> {
    return fetch(`${t.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? AUTH : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  async function links(userId: string, itemId?: string): Promise<ItemLinkDto[]> {
    const res = await api(
      'GET',
      `/v1/item-links?userId=${userId}${itemId ? `&itemId=${itemId}` : ''}`,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as ItemLinksPageDto).links;
  }
  const caughtUp = (userId: string) =>
    until(() => linkerCaughtUp(t.app, userId), `links of ${userId}`);
  const sorted = (list: string[]) => [...list].sort();

  /** The same four items (and a distractor) for a user: what the group tests read. */
  async function seed(userId: string): Promise<typeof ids> {
    const j = await connectionOf(t.app, userId, 'jira');
    const tr = await connectionOf(t.app, userId, 'trello');
    const sl = await connectionOf(t.app, userId, 'slack');
    const [issue] = await writeItems(t.app, j, [jiraIssue(SITE, 'ABC-123')]);
    const [card] = await writeItems(t.app, tr, [
      trelloCard('AbCd1234', { desc: `Tracked in Jira: ${SITE}/browse/ABC-123` }),
    ]);
    const [byUrl, byKey, unrelated] = await writeItems(t.app, sl, [
      slackMessage(`Deploy blocked, see <${SITE}/browse/ABC-123|the ticket>`),
      slackMessage('ABC-123 still fails on UTF-8 input'),
      slackMessage('Dates are ISO-8601, and UTF-8 is the encoding'),
    ]);
    if (userId === alice) [jira, trello, slack] = [j, tr, sl];
    return { issue, card, byUrl, byKey, unrelated };
  }

  beforeAll(async () => {
    t = await startTestApp({ integrations: INTEGRATIONS });
    ds = t.app.get(DataSource);
    Object.assign(ids, await seed(alice));
    await seed(bob);
    await caughtUp(alice);
    await caughtUp(bob);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('links a Jira issue, the Trello card and two Slack messages about it into one group of four', async () => {
    const group = await groupOf(t.app, alice, ids.issue);
    expect(group).toEqual(sorted([ids.issue, ids.card, ids.byUrl, ids.byKey]));
    // The entry id is the smallest member id; every live item has exactly one live entry.
    const entries = await liveEntries(t.app, alice);
    expect(entries.get(group![0])).toEqual(group);
    const members = [...entries.values()].flat();
    expect(sorted(members)).toEqual(sorted(Object.values(ids)));
    // The message with only ISO-8601 and UTF-8 in it is nobody's key: alone.
    expect(await groupOf(t.app, alice, ids.unrelated)).toEqual([ids.unrelated]);

    const list = await links(alice);
    expect(list).toHaveLength(3);
    for (const link of list) {
      expect(link.origin).toBe('detected');
      expect(link.itemId < link.linkedItemId).toBe(true);
      expect([link.itemId, link.linkedItemId]).toContain(ids.issue);
    }
    const byUrl = list.find((l) => [l.itemId, l.linkedItemId].includes(ids.byUrl))!;
    const issueSide = byUrl.itemId === ids.issue ? 'itemRole' : 'linkedItemRole';
    const otherSide = issueSide === 'itemRole' ? 'linkedItemRole' : 'itemRole';
    expect(byUrl.evidence.matches).toEqual([
      expect.objectContaining({
        key: 'jira:acme.atlassian.net/ABC-123',
        [issueSide]: 'identity',
        [otherSide]: 'reference',
      }),
    ]);
    expect(byUrl.confidence).toBe(0.9);
    expect(byUrl.reason).toMatch(/mentions jira:acme\.atlassian\.net\/ABC-123/);
    const byKey = list.find((l) => [l.itemId, l.linkedItemId].includes(ids.byKey))!;
    expect(byKey.evidence.matches).toEqual([
      expect.objectContaining({
        key: 'jira:ABC-123',
        [otherSideOf(byKey, ids.issue)]: 'reference',
      }),
    ]);
    expect(byKey.confidence).toBe(0.8);
    // Filter by item.
    expect((await links(alice, ids.card)).map((l) => l.id)).toEqual([
      list.find((l) => [l.itemId, l.linkedItemId].includes(ids.card))!.id,
    ]);
  });

  it("never links across users: Bob's identical items form Bob's own group", async () => {
    const bobLinks = await links(bob);
    expect(bobLinks).toHaveLength(3);
    const bobItems = new Set(
      (await ds.query<{ id: string }[]>('SELECT id FROM items WHERE user_id = $1', [bob])).map(
        (r) => r.id,
      ),
    );
    for (const l of bobLinks) {
      expect(bobItems.has(l.itemId) && bobItems.has(l.linkedItemId)).toBe(true);
    }
    for (const members of (await liveEntries(t.app, bob)).values()) {
      for (const m of members) expect(bobItems.has(m)).toBe(true);
    }
    // Alice's filter on Bob's item finds nothing.
    expect(await links(alice, [...bobItems][0])).toEqual([]);
  });

  it('groups the same meeting seen from two Google accounts of the user', async () => {
    const work = await connectionOf(t.app, alice, 'google-calendar');
    const home = await connectionOf(t.app, alice, 'google-calendar');
    const uid = 'weekly-sync-7f3a@google.com';
    const [a] = await writeItems(t.app, work, [
      calendarEvent('alice@work.example', 'evt1', { iCalUID: uid, organizer: 'Lead@Work.example' }),
    ]);
    const [b] = await writeItems(t.app, home, [
      calendarEvent('alice@home.example', 'evt9', { iCalUID: uid, organizer: 'lead@work.example' }),
    ]);
    const [other] = await writeItems(t.app, home, [
      calendarEvent('alice@home.example', 'evt2', { iCalUID: 'dentist@google.com' }),
    ]);
    await caughtUp(alice);
    expect(await groupOf(t.app, alice, a)).toEqual(sorted([a, b]));
    expect(await groupOf(t.app, alice, other)).toEqual([other]);
    const [link] = await links(alice, a);
    expect(link.evidence.matches).toEqual([
      { key: `ical:${uid}`, itemRole: 'identity', linkedItemRole: 'identity', confidence: 0.95 },
    ]);
    expect(link.reason).toContain('same lead@work.example');
  });

  it('splits a wrong link for good: the pair stays apart after both items change again', async () => {
    const cardLink = (await links(alice, ids.card))[0];
    const before = await entrySeq(ids.card);
    const res = await api('DELETE', `/v1/item-links/${cardLink.id}?userId=${alice}`);
    expect(res.status, await res.clone().text()).toBe(204);
    // The merged entries follow in the same transaction: no waiting for the detector.
    expect(await groupOf(t.app, alice, ids.card)).toEqual([ids.card]);
    expect(await groupOf(t.app, alice, ids.issue)).toEqual(
      sorted([ids.issue, ids.byUrl, ids.byKey]),
    );
    expect(BigInt(await entrySeq(ids.card))).toBeGreaterThan(BigInt(before));
    const rejected = await ds.query('SELECT 1 FROM item_link_rejections WHERE user_id = $1', [
      alice,
    ]);
    expect(rejected).toHaveLength(1);

    // Both items change (new versions, same evidence): detection must not link them again.
    await writeItems(t.app, trello, [
      trelloCard('AbCd1234', { desc: `Still tracked in Jira: ${SITE}/browse/ABC-123` }),
    ]);
    await writeItems(t.app, jira, [jiraIssue(SITE, 'ABC-123', { summary: 'Renamed' })]);
    await caughtUp(alice);
    expect(await links(alice, ids.card)).toEqual([]);
    expect(await groupOf(t.app, alice, ids.card)).toEqual([ids.card]);
    expect(await groupOf(t.app, alice, ids.issue)).toEqual(
      sorted([ids.issue, ids.byUrl, ids.byKey]),
    );

    // The same link again, or Bob splitting Alice's link: 404.
    expect((await api('DELETE', `/v1/item-links/${cardLink.id}?userId=${alice}`)).status).toBe(404);
    const other = (await links(alice, ids.byUrl))[0];
    expect((await api('DELETE', `/v1/item-links/${other.id}?userId=${bob}`)).status).toBe(404);
  });

  it('joins two items by hand (201), answers 200 for a pair already linked, and lifts a split', async () => {
    const res = await api('POST', '/v1/item-links', {
      userId: alice,
      itemId: ids.card,
      linkedItemId: ids.issue,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const link = (await res.json()) as ItemLinkDto;
    expect(link).toMatchObject({ origin: 'manual', confidence: 1, reason: 'Joined by hand' });
    expect(sorted([link.itemId, link.linkedItemId])).toEqual(sorted([ids.card, ids.issue]));
    expect(
      await ds.query('SELECT 1 FROM item_link_rejections WHERE user_id = $1', [alice]),
    ).toEqual([]);
    expect(await groupOf(t.app, alice, ids.card)).toEqual(
      sorted([ids.issue, ids.card, ids.byUrl, ids.byKey]),
    );

    const again = await api('POST', '/v1/item-links', {
      userId: alice,
      itemId: ids.issue,
      linkedItemId: ids.card,
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as ItemLinkDto).id).toBe(link.id);

    // A detected link joined by hand becomes manual: detection no longer owns it.
    const detected = (await links(alice, ids.byUrl))[0];
    const kept = await api('POST', '/v1/item-links', {
      userId: alice,
      itemId: ids.byUrl,
      linkedItemId: ids.issue,
    });
    expect(kept.status).toBe(200);
    expect((await kept.json()) as ItemLinkDto).toMatchObject({ id: detected.id, origin: 'manual' });

    // The manual join survives the items changing.
    await writeItems(t.app, trello, [trelloCard('AbCd1234', { desc: 'No Jira link any more' })]);
    await caughtUp(alice);
    expect((await links(alice, ids.card)).map((l) => l.origin)).toEqual(['manual']);
    expect(await groupOf(t.app, alice, ids.card)).toHaveLength(4);
  });

  it('refuses bad input with 400, unknown or foreign items with 404, and no token with 401', async () => {
    const bobItem = (await links(bob))[0].itemId;
    const cases: Array<[string, string, unknown, number, RegExp?]> = [
      ['GET', '/v1/item-links', undefined, 400, /userId/],
      [
        'GET',
        `/v1/item-links?userId=${alice}&itemId=nope`,
        undefined,
        400,
        /itemId must be a UUID/,
      ],
      ['GET', `/v1/item-links?userId=${alice}&limit=0`, undefined, 400, /limit/],
      ['GET', `/v1/item-links?userId=${alice}&cursor=e30`, undefined, 400, /cursor is malformed/],
      [
        'POST',
        '/v1/item-links',
        { userId: alice, itemId: ids.card },
        400,
        /linkedItemId must be a UUID/,
      ],
      ['POST', '/v1/item-links', { itemId: ids.card, linkedItemId: ids.issue }, 400, /userId/],
      [
        'POST',
        '/v1/item-links',
        { userId: alice, itemId: ids.card, linkedItemId: ids.card },
        400,
        /another item/,
      ],
      [
        'POST',
        '/v1/item-links',
        { userId: alice, itemId: ids.card, linkedItemId: ids.issue, extra: 1 },
        400,
        /extra/,
      ],
      [
        'POST',
        '/v1/item-links',
        { userId: alice, itemId: ids.card, linkedItemId: '00000000-0000-4000-8000-000000000000' },
        404,
        /linkedItemId/,
      ],
      [
        'POST',
        '/v1/item-links',
        { userId: alice, itemId: bobItem, linkedItemId: ids.card },
        404,
        /itemId/,
      ],
      ['DELETE', `/v1/item-links/not-a-uuid?userId=${alice}`, undefined, 400],
      ['DELETE', `/v1/item-links/00000000-0000-4000-8000-000000000000`, undefined, 400, /userId/],
      [
        'DELETE',
        `/v1/item-links/00000000-0000-4000-8000-000000000000?userId=${alice}`,
        undefined,
        404,
      ],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await api(method, path, body);
      const text = await res.text();
      expect(res.status, `${method} ${path} ${text}`).toBe(status);
      if (message) expect(text, `${method} ${path}`).toMatch(message);
    }
    for (const [method, path] of [
      ['GET', `/v1/item-links?userId=${alice}`],
      ['POST', '/v1/item-links'],
      ['DELETE', `/v1/item-links/00000000-0000-4000-8000-000000000000?userId=${alice}`],
    ]) {
      expect((await api(method, path, method === 'POST' ? {} : undefined, false)).status).toBe(401);
    }
  });

  it('pages the links with a cursor', async () => {
    const all = await links(alice);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await api(
        'GET',
        `/v1/item-links?userId=${alice}&limit=2${cursor && `&cursor=${cursor}`}`,
      );
      const page = (await res.json()) as ItemLinksPageDto;
      seen.push(...page.links.map((l) => l.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.map((l) => l.id));
  });

  it('shrinks a group when a member is deleted, and tombstones the entry of a deleted anchor', async () => {
    // A message leaves the group of four: the group shrinks to three.
    const seqBefore = await maxEntrySeq(alice);
    await writeItems(
      t.app,
      slack,
      [],
      [{ kind: 'message', externalId: await externalIdOf(ids.byKey) }],
    );
    await caughtUp(alice);
    expect(await groupOf(t.app, alice, ids.issue)).toEqual(
      sorted([ids.issue, ids.card, ids.byUrl]),
    );
    expect(await groupOf(t.app, alice, ids.byKey)).toBeUndefined();
    expect(await links(alice, ids.byKey)).toEqual([]);

    // Delete the group's anchor (its smallest id): that entry becomes a tombstone, the others
    // regroup under a new anchor or fall apart into singles.
    const group = (await groupOf(t.app, alice, ids.issue))!;
    const anchor = group[0];
    const conn = anchor === ids.issue ? jira : anchor === ids.card ? trello : slack;
    const kind = anchor === ids.issue || anchor === ids.card ? 'task' : 'message';
    await writeItems(t.app, conn, [], [{ kind, externalId: await externalIdOf(anchor) }]);
    await caughtUp(alice);
    const [tomb] = await ds.query<{ deleted_at: Date | null; change_seq: string }[]>(
      'SELECT deleted_at, change_seq::text AS change_seq FROM merged_entries WHERE id = $1',
      [anchor],
    );
    expect(tomb.deleted_at).not.toBeNull();
    expect(BigInt(tomb.change_seq)).toBeGreaterThan(BigInt(seqBefore));
    const rest = group.filter((id) => id !== anchor);
    for (const id of rest) expect(await groupOf(t.app, alice, id)).toBeDefined();
    // Every live item of Alice has exactly one live entry, and no entry holds a deleted item.
    const live = (
      await ds.query<{ id: string }[]>(
        'SELECT id FROM items WHERE user_id = $1 AND deleted_at IS NULL',
        [alice],
      )
    ).map((r) => r.id);
    expect(sorted([...(await liveEntries(t.app, alice)).values()].flat())).toEqual(sorted(live));
  });

  it('follows a purge: entries of purged items go, their groups shrink', async () => {
    const user = 'user-links-purge';
    const j = await connectionOf(t.app, user, 'jira');
    const sl = await connectionOf(t.app, user, 'slack');
    const [issue] = await writeItems(t.app, j, [jiraIssue(SITE, 'OPS-7')]);
    const [m1, m2] = await writeItems(t.app, sl, [
      slackMessage('OPS-7 is done'),
      slackMessage(`Closing ${SITE}/browse/OPS-7`),
    ]);
    await caughtUp(user);
    expect(await groupOf(t.app, user, issue)).toEqual(sorted([issue, m1, m2]));
    const { ItemsRepository } = await import('../../src/items/items.repository.js');
    await t.app.get(ItemsRepository).purgeConnection(sl.connectionId);
    await eventually(async () => {
      const entries = await liveEntries(t.app, user);
      return entries.size === 1 && [...entries.values()][0].length === 1 ? entries : undefined;
    }, 'the purged messages to leave the group');
    expect(await groupOf(t.app, user, issue)).toEqual([issue]);
    expect(await ds.query('SELECT 1 FROM link_rechecks WHERE user_id = $1', [user])).toEqual([]);
  });

  it('lists the link routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/docs/json`, { headers: AUTH })).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths['/v1/item-links'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/item-links/{id}'] ?? {})).toEqual(['delete']);
  });

  async function entrySeq(itemId: string): Promise<string> {
    const [row] = await ds.query<{ change_seq: string }[]>(
      `SELECT change_seq::text AS change_seq FROM merged_entries
       WHERE deleted_at IS NULL AND member_ids @> ARRAY[$1::uuid]`,
      [itemId],
    );
    return row.change_seq;
  }
  async function maxEntrySeq(userId: string): Promise<string> {
    const [row] = await ds.query<{ seq: string }[]>(
      'SELECT max(change_seq)::text AS seq FROM merged_entries WHERE user_id = $1',
      [userId],
    );
    return row.seq;
  }
  async function externalIdOf(itemId: string): Promise<string> {
    const [row] = await ds.query<{ external_id: string }[]>(
      'SELECT external_id FROM items WHERE id = $1',
      [itemId],
    );
    return row.external_id;
  }
});

function otherSideOf(link: ItemLinkDto, itemId: string): 'itemRole' | 'linkedItemRole' {
  return link.itemId === itemId ? 'linkedItemRole' : 'itemRole';
}
