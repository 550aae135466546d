import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JiraFake, SEED_SITES } from '../../sandbox/jira/index.js';
import { SEED_SLACK, SlackFake } from '../../sandbox/slack/index.js';
import { TrelloFake } from '../../sandbox/trello/trello.fake.js';
import type { ItemsConflictData, PdeckEventEnvelope } from '../../src/events/pdeck-event.js';
import type { MergedEntryDto } from '../../src/links/merged/dto/merged-entry.dto.js';
import { JiraProvider } from '../../src/providers/jira/jira.provider.js';
import { SlackProvider } from '../../src/providers/slack/slack.provider.js';
import { TrelloProvider } from '../../src/providers/trello/trello.provider.js';
import { syncIdle, eventually } from '@pdeck/integration-sdk/testing';
import { PdeckReceiver } from '../support/events-test-kit.js';
import { connectJira, jiraEnv } from '../support/jira-e2e-kit.js';
import { connectSlack, slackEnv, useRequestUrl } from '../support/slack-e2e-kit.js';
import { CONTRACT_AUTH, freePort, startTestApp, type TestApp } from '../support/test-app.js';
import { connectAlice, trelloEnv } from '../support/trello-e2e-kit.js';

interface MergedPage {
  entries: MergedEntryDto[];
  nextCursor: string;
  hasMore: boolean;
}

const PD1 = 'https://pdeck.atlassian.net/browse/PD-1';
const PD2 = 'https://pdeck.atlassian.net/browse/PD-2';
const DAY = 86_400_000;
const dateOnly = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * GET /v1/items?merged=true through the running app: Jira, Trello and Slack connections synced
 * from the sandbox fakes, the link detector grouping what they share, the precedence policy
 * choosing each field, and items.conflict delivered to a PDeck stand-in.
 */
describe('the merged view (Jira, Trello and Slack sandbox fakes)', () => {
  const userId = `merged-${randomUUID().slice(0, 8)}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new PdeckReceiver(secret);
  const jira = new JiraFake({ webhooks: { baseDelayMs: 50 } });
  const trello = new TrelloFake();
  const slack = new SlackFake({ historyTier: 'tier3' });
  let app: TestApp;
  let db: DataSource;
  const connections: Record<string, string> = {};
  let conflictKeys: { alice: string; bob: string };

  beforeAll(async () => {
    await Promise.all([receiver.start(), jira.start(), trello.start(), slack.start()]);
    // The group: PD-1 on Alice's pdeck site, a Trello card that links it, a message about it.
    trello.createCard(trello.seed!.boards.product, {
      name: 'Checkout button',
      idList: trello.seed!.lists.doing,
      desc: `Tracked in Jira: ${PD1}`,
      due: new Date(Date.now() + 30 * DAY).toISOString(),
      idMembers: [trello.seed!.members.alice],
    });
    slack.data.post(SEED_SLACK.channels.general, {
      user: SEED_SLACK.users.alice,
      text: `Looking at <${PD1}|PD-1> now`,
    });
    // A pair for the dissolve test: PD-2 and a message about it.
    slack.data.post(SEED_SLACK.channels.general, {
      user: SEED_SLACK.users.alice,
      text: `Notes for <${PD2}|PD-2> are drafted`,
    });
    // The same work tracked on two Jira sites (Alice's and Bob's), due on different days.
    const alice = jira.createIssue(SEED_SITES.pdeck, {
      project: 'OPS',
      summary: 'Ship the checkout fix',
      status: 'In Progress',
      assignee: 'alice',
      reporter: 'alice',
      duedate: dateOnly(Date.now() + 5 * DAY),
    });
    const bob = jira.createIssue(SEED_SITES.labs, {
      project: 'LAB',
      summary: 'Ship the checkout fix',
      status: 'In Progress',
      assignee: 'bob',
      reporter: 'bob',
      duedate: dateOnly(Date.now() + 9 * DAY),
    });
    conflictKeys = { alice: alice.key, bob: bob.key };

    const envs = [jiraEnv(jira), trelloEnv(trello), slackEnv(slack)];
    app = await startTestApp({
      port: await freePort(),
      integrations: [JiraProvider, TrelloProvider, SlackProvider],
      env: {
        ...Object.assign({}, ...envs),
        PROVIDER_ORIGINS: JSON.stringify({
          ...jira.origins(),
          ...trello.origins(),
          ...slack.origins(),
        }),
        RETURN_TO_ORIGINS: envs.map((e) => e.RETURN_TO_ORIGINS).join(','),
        PDECK_EVENTS_URL: receiver.url,
        PDECK_EVENTS_SECRET: secret,
      },
    });
    db = app.app.get(DataSource);
    await useRequestUrl(slack, app);

    const aliceJira = await connectJira(app, userId, 'alice');
    const chosen = await api(`/v1/connections/${aliceJira.id}/site`, {
      method: 'PUT',
      body: JSON.stringify({ cloudId: SEED_SITES.pdeck }),
    });
    expect(chosen.status).toBe(200);
    connections.jira = aliceJira.id;
    connections.bobJira = (await connectJira(app, userId, 'bob')).id;
    connections.trello = await connectAlice(app, userId);
    connections.slack = (await connectSlack(app, userId, 'alice')).id;
    for (const connectionId of Object.values(connections)) {
      await eventually(() => syncIdle({ db, connectionId }), 'the first syncs', {
        timeoutMs: 60_000,
      });
    }
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all([jira.stop(), trello.stop(), slack.stop(), receiver.stop()]);
  });

  function api(path: string, init: RequestInit = {}) {
    return fetch(`${app.baseUrl}${path}`, { ...init, headers: CONTRACT_AUTH });
  }

  async function page(query: Record<string, string>): Promise<MergedPage> {
    const res = await api(`/v1/items?${new URLSearchParams({ userId, merged: 'true', ...query })}`);
    expect(res.status).toBe(200);
    return (await res.json()) as MergedPage;
  }

  /** Every page from `cursor` on, in order; the last nextCursor. */
  async function readAll(
    cursor?: string,
    limit = 1000,
  ): Promise<{ entries: MergedEntryDto[]; cursor: string }> {
    const entries: MergedEntryDto[] = [];
    for (;;) {
      const body = await page({ limit: String(limit), ...(cursor ? { cursor } : {}) });
      entries.push(...body.entries);
      cursor = body.nextCursor;
      if (!body.hasMore) return { entries, cursor };
    }
  }

  /** The live entries after applying every change in order (tombstones remove). */
  async function liveEntries(): Promise<Map<string, MergedEntryDto>> {
    const live = new Map<string, MergedEntryDto>();
    for (const e of (await readAll()).entries) {
      if (e.deletedAt) live.delete(e.id);
      else live.set(e.id, e);
    }
    return live;
  }

  async function itemId(connectionId: string, where: string, params: unknown[]): Promise<string> {
    const rows = await db.query<{ id: string }[]>(
      `SELECT id FROM items WHERE connection_id = $1 AND deleted_at IS NULL AND ${where}`,
      [connectionId, ...params],
    );
    expect(rows).toHaveLength(1);
    return rows[0].id;
  }

  const providersOf = (e: MergedEntryDto) => e.members!.map((m) => m.provider).sort();
  const entryWith = async (id: string) =>
    [...(await liveEntries()).values()].find((e) => e.members!.some((m) => m.itemId === id));

  const conflictEvents = () =>
    receiver.requests
      .filter((r) => r.valid && r.answered === 200)
      .map((r) => JSON.parse(r.body) as PdeckEventEnvelope)
      .filter((e) => e.type === 'items.conflict')
      .map((e) => e.data as ItemsConflictData);

  let group: MergedEntryDto;
  let ids: { jira: string; trello: string; slack: string };

  it('shows the Jira issue, its Trello card and the Slack message once, with provenance', async () => {
    ids = {
      jira: await itemId(connections.jira, "raw->>'key' = 'PD-1'", []),
      trello: await itemId(connections.trello, 'title = $2', ['Checkout button']),
      slack: await itemId(connections.slack, 'body LIKE $2', ['Looking at %PD-1%']),
    };
    group = await eventually(
      async () => {
        const entry = await entryWith(ids.jira);
        return entry && entry.members!.length === 3 ? entry : undefined;
      },
      'one entry for the three items',
      { timeoutMs: 30_000, debug: async () => [...(await liveEntries()).values()].slice(-5) },
    );
    const members = [ids.jira, ids.trello, ids.slack].sort();
    expect(group.id).toBe(members[0]);
    expect(group.kind).toBe('task');
    expect(group.members!.map((m) => m.itemId)).toEqual(members);
    expect(group.members!.find((m) => m.provider === 'jira')).toMatchObject({
      connectionId: connections.jira,
      kind: 'task',
      url: PD1,
    });
    expect(group.members!.find((m) => m.provider === 'slack')?.kind).toBe('message');

    const [jiraItem] = await db.query<{ due_at: Date; status: string }[]>(
      'SELECT due_at, status FROM items WHERE id = $1',
      [ids.jira],
    );
    const fromJira = { itemId: ids.jira, provider: 'jira' };
    const why = 'system of record for tasks (jira)';
    expect(group.fields!.title).toEqual({
      value: 'Checkout button unresponsive',
      source: fromJira,
      reason: why,
    });
    expect(group.fields!.status).toEqual({ value: 'In Progress', source: fromJira, reason: why });
    // Jira's due date, not the card's (30 days out): Jira outranks Trello, so no conflict either.
    expect(group.fields!.dueAt).toEqual({
      value: jiraItem.due_at.toISOString(),
      source: fromJira,
      reason: why,
    });
    expect(group.fields!.labels.value).toContain('frontend');
    expect(group.conflicts).toEqual([]);

    // Every live item of the user is in exactly one live entry (once the detector caught up).
    await eventually(
      async () => {
        const counted = new Map<string, number>();
        for (const e of (await liveEntries()).values()) {
          for (const m of e.members!) counted.set(m.itemId, (counted.get(m.itemId) ?? 0) + 1);
        }
        const items = await db.query<{ id: string }[]>(
          'SELECT id FROM items WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id',
          [userId],
        );
        const listed = [...counted.keys()].sort();
        return items.length > 20 &&
          listed.join() === items.map((i) => i.id).join() &&
          [...counted.values()].every((n) => n === 1)
          ? true
          : undefined;
      },
      'one live entry per live item',
      { timeoutMs: 30_000 },
    );
  });

  it('pages with the cursor: every change once, in change order; an empty page keeps its place', async () => {
    const whole = await readAll(undefined, 1000);
    const paged = await readAll(undefined, 7);
    expect(paged.entries.map((e) => [e.id, e.changeSeq])).toEqual(
      whole.entries.map((e) => [e.id, e.changeSeq]),
    );
    const seqs = whole.entries.map((e) => BigInt(e.changeSeq));
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
    const first = await page({ limit: '7' });
    expect(first.entries).toHaveLength(7);
    expect(first.hasMore).toBe(true);
    const after = await page({ limit: '1000', cursor: first.nextCursor });
    expect(after.entries.map((e) => e.id)).toEqual(whole.entries.slice(7).map((e) => e.id));
    const end = await page({ cursor: whole.cursor });
    expect(end).toEqual({ entries: [], nextCursor: whole.cursor, hasMore: false });
  });

  it('splitting the Slack link leaves the message on its own and the rest together', async () => {
    const before = (await readAll()).cursor;
    const res = await api(`/v1/item-links?${new URLSearchParams({ userId, itemId: ids.slack })}`);
    const { links } = (await res.json()) as { links: { id: string; itemId: string }[] };
    expect(links).toHaveLength(1);
    const split = await api(`/v1/item-links/${links[0].id}?userId=${userId}`, {
      method: 'DELETE',
    });
    expect(split.status).toBe(204);

    // Regrouped at once, in the split's transaction.
    const changes = (await readAll(before)).entries;
    expect(changes.length).toBeGreaterThan(0);
    const live = await liveEntries();
    const single = [...live.values()].find((e) => e.members!.some((m) => m.itemId === ids.slack))!;
    expect(single.id).toBe(ids.slack);
    expect(providersOf(single)).toEqual(['slack']);
    expect(single.fields!.title.source).toEqual({ itemId: ids.slack, provider: 'slack' });
    const rest = [...live.values()].find((e) => e.members!.some((m) => m.itemId === ids.jira))!;
    expect(providersOf(rest)).toEqual(['jira', 'trello']);
    expect(rest.id).toBe([ids.jira, ids.trello].sort()[0]);
    // The old group id is one of the two (the smallest of all three), so the change is exactly
    // the two rewritten entries.
    expect(new Set(changes.map((e) => e.id))).toEqual(new Set([single.id, rest.id]));
    expect(group.id).toBe([single.id, rest.id].sort()[0]);
  });

  it('a pair whose anchor item is deleted leaves a tombstone and the other item single', async () => {
    const issue = await itemId(connections.jira, "raw->>'key' = 'PD-2'", []);
    const message = await itemId(connections.slack, 'body LIKE $2', ['Notes for %PD-2%']);
    const pair = await eventually(async () => {
      const entry = await entryWith(issue);
      return entry && entry.members!.length === 2 ? entry : undefined;
    }, 'PD-2 and its message in one entry');
    expect(pair.members!.map((m) => m.itemId)).toEqual([issue, message].sort());
    const before = (await readAll()).cursor;
    const anchorIsIssue = pair.id === issue;
    if (anchorIsIssue) {
      // The Jira webhook must exist before the deletion, or nothing tells the service.
      await eventually(
        async () =>
          jira.webhooks.list(jira.apps[0].clientId, SEED_SITES.pdeck).length > 0 ? true : undefined,
        'the Jira webhook',
      );
      jira.deleteIssue(SEED_SITES.pdeck, 'PD-2');
    } else {
      const ts = (
        await db.query('SELECT external_id FROM items WHERE id = $1', [message])
      )[0].external_id
        .split(':')
        .pop();
      slack.deleteMessage(SEED_SLACK.channels.general, ts);
    }
    const other = anchorIsIssue ? message : issue;
    const changes = await eventually(
      async () => {
        const { entries } = await readAll(before);
        return entries.some((e) => e.id === pair.id && e.deletedAt) &&
          entries.some((e) => e.id === other && !e.deletedAt)
          ? entries
          : undefined;
      },
      'a tombstone for the pair and a single for the rest',
      { timeoutMs: 30_000 },
    );
    const tombstone = changes.filter((e) => e.id === pair.id).at(-1)!;
    expect(Object.keys(tombstone).sort()).toEqual(['changeSeq', 'deletedAt', 'id']);
    const single = changes.filter((e) => e.id === other).at(-1)!;
    expect(single.members!.map((m) => m.itemId)).toEqual([other]);
    expect(single.conflicts).toEqual([]);
    expect((await liveEntries()).has(pair.id)).toBe(false);
  });

  it('two Jira sites with different due dates: a conflict, notified once, again if it comes back', async () => {
    const alice = await itemId(connections.jira, "raw->>'key' = $2", [conflictKeys.alice]);
    const bob = await itemId(connections.bobJira, "raw->>'key' = $2", [conflictKeys.bob]);
    const joined = await api('/v1/item-links', {
      method: 'POST',
      body: JSON.stringify({ userId, itemId: alice, linkedItemId: bob }),
    });
    expect(joined.status).toBe(201);
    const entry = await eventually(async () => {
      const e = await entryWith(alice);
      return e && e.members!.length === 2 ? e : undefined;
    }, 'the two issues in one entry');
    expect(entry.conflicts).toHaveLength(1);
    const [conflict] = entry.conflicts!;
    expect(conflict.field).toBe('dueAt');
    expect(conflict.values.map((v) => v.itemId)).toEqual([alice, bob].sort());
    expect(new Set(conflict.values.map((v) => v.value)).size).toBe(2);
    expect(conflict.reason).toBe('2 systems of record (jira) disagree; the most recent is shown');
    expect(entry.fields!.dueAt.reason).toBe('conflict: most recent of 2 systems of record (jira)');
    // Same status on both sites: no conflict there.
    expect(entry.fields!.status.value).toBe('In Progress');

    const forEntry = () => conflictEvents().filter((e) => e.entryId === entry.id);
    const first = await eventually(
      () => (forEntry().length > 0 ? forEntry() : undefined),
      'the items.conflict notification',
    );
    expect(first).toEqual([
      { userId, entryId: entry.id, itemIds: [alice, bob].sort(), fields: ['dueAt'] },
    ]);

    // An unrelated change to one of them (its title): the entry changes, the conflict does not.
    await eventually(
      async () =>
        jira.webhooks.list(jira.apps[0].clientId, SEED_SITES.labs).length > 0 ? true : undefined,
      "the webhook of Bob's site",
    );
    jira.updateIssue(SEED_SITES.labs, conflictKeys.bob, { summary: 'Ship the checkout fix (v2)' });
    await eventually(async () => {
      const e = await entryWith(alice);
      return e?.fields?.title.value === 'Ship the checkout fix (v2)' &&
        BigInt(e.changeSeq) > BigInt(entry.changeSeq)
        ? true
        : undefined;
    }, 'the new title in the merged entry');
    await outboxDrained();
    expect(forEntry()).toHaveLength(1);

    // Resolved (same due date), then back: notified again.
    const aliceDue = (await db.query('SELECT due_at FROM items WHERE id = $1', [alice]))[0]
      .due_at as Date;
    jira.updateIssue(SEED_SITES.labs, conflictKeys.bob, { duedate: dateOnly(aliceDue.getTime()) });
    // The view reads the items as they are; the hook forgets the conflict when the detector
    // rewrites the entry.
    await eventually(async () => {
      const e = await entryWith(alice);
      const [row] = await db.query<{ conflict_keys: string[] }[]>(
        'SELECT conflict_keys FROM merged_entries WHERE id = $1',
        [entry.id],
      );
      return e?.conflicts?.length === 0 && row.conflict_keys.length === 0 ? true : undefined;
    }, 'the conflict to resolve');
    jira.updateIssue(SEED_SITES.labs, conflictKeys.bob, {
      duedate: dateOnly(Date.now() + 12 * DAY),
    });
    await eventually(
      () => (forEntry().length === 2 ? true : undefined),
      'a second items.conflict once the conflict is back',
    );
    await outboxDrained();
    expect(forEntry()).toHaveLength(2);
  });

  it('answers 400 for bad input, naming the field', async () => {
    const bad = async (query: string, pattern: RegExp) => {
      const res = await api(`/v1/items?${query}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { message: string | string[] };
      expect([body.message].flat().join('; ')).toMatch(pattern);
    };
    await bad(`userId=${userId}&merged=yes`, /merged must be one of the following values/);
    await bad(
      `userId=${userId}&merged=true&provider=jira`,
      /merged=true cannot be combined with provider/,
    );
    await bad(`userId=${userId}&merged=true&kind=task`, /merged=true cannot be combined with kind/);
    await bad(
      `userId=${userId}&merged=true&includeRaw=true&provider=jira`,
      /merged=true cannot be combined with provider, includeRaw/,
    );
    await bad(`userId=${userId}&merged=true&cursor=not-a-cursor`, /cursor is malformed/);
    // includeRaw=false asks for nothing the merged view lacks.
    expect((await api(`/v1/items?userId=${userId}&merged=true&includeRaw=false`)).status).toBe(200);
    await bad(`userId=${userId}&merged=true&limit=0`, /limit must not be less than 1/);
    await bad('merged=true', /userId/);
    // The items feed is untouched: merged=false is the feed, filters and all.
    const items = await api(`/v1/items?userId=${userId}&merged=false&provider=jira&limit=1`);
    expect(items.status).toBe(200);
    expect(Object.keys((await items.json()) as object).sort()).toEqual([
      'hasMore',
      'items',
      'nextCursor',
    ]);
  });

  it('documents both answers of GET /v1/items in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${app.baseUrl}/docs/json`)).json()) as {
      paths: Record<string, any>;
      components: { schemas: Record<string, any> };
    };
    const ok = doc.paths['/v1/items'].get.responses['200'].content['application/json'].schema;
    expect(ok.oneOf).toEqual([
      { $ref: '#/components/schemas/ItemsPageDto' },
      { $ref: '#/components/schemas/MergedEntriesPageDto' },
    ]);
    expect(doc.components.schemas.MergedEntryDto.properties).toHaveProperty('fields');
    expect(doc.components.schemas.MergedTextFieldDto.required).toEqual(
      expect.arrayContaining(['value', 'source', 'reason']),
    );
    const merged = doc.paths['/v1/items'].get.parameters.find(
      (p: { name: string }) => p.name === 'merged',
    );
    expect(merged.schema.enum).toEqual(['true', 'false']);
  });

  async function outboxDrained(): Promise<void> {
    await eventually(
      async () =>
        (await db.query('SELECT count(*)::int AS n FROM event_outbox'))[0].n === 0
          ? true
          : undefined,
      'an empty outbox',
    );
    // Delivery follows the relay: let the queue hand over what it took.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
});
