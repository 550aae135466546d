import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ItemsRepository } from '../../src/items/items.repository.js';
import { toItem } from '../../src/providers/google-calendar/google-calendar.mapper.js';
import type { ItemDeletion, ItemKind, NormalizedItem } from '@pdeck/integration-sdk';
import { mapIssue } from '../../src/providers/jira/jira.mapper.js';
import { toMessageItem } from '../../src/providers/slack/slack.mapper.js';
import { mapCard } from '../../src/providers/trello/trello.mapper.js';
import { storeConnections, type TestConnection } from './items-fixtures.js';

/**
 * Items as each provider's mapper makes them from provider payloads (real `raw`, `url` and
 * `body`), written through ItemsRepository like a sync page: what link detection reads.
 */

let clock = Date.UTC(2026, 10, 1);
/** A later instant on every call: versions of one item keep increasing. */
function nextIso(): string {
  clock += 60_000;
  return new Date(clock).toISOString();
}

export function jiraIssue(
  siteUrl: string,
  key: string,
  fields: { id?: string; summary?: string; description?: string; due?: string } = {},
): NormalizedItem {
  const updated = nextIso().replace('Z', '+0000');
  const item = mapIssue(
    {
      id: fields.id ?? String(10_000 + Number(key.split('-')[1])),
      key,
      fields: {
        summary: fields.summary ?? `Issue ${key}`,
        status: { name: 'In Progress', statusCategory: { key: 'indeterminate' } },
        project: { id: '1', key: key.split('-')[0], name: 'Platform' },
        duedate: fields.due ?? null,
        updated,
        description: fields.description
          ? {
              type: 'doc',
              version: 1,
              content: [
                { type: 'paragraph', content: [{ type: 'text', text: fields.description }] },
              ],
            }
          : null,
      },
    } as never,
    { cloudId: `cloud-${new URL(siteUrl).host}`, url: siteUrl, name: 'Acme' },
  );
  return item!;
}

export function trelloCard(
  shortLink: string,
  fields: { id?: string; name?: string; desc?: string } = {},
): NormalizedItem {
  const list = { id: 'list-1', name: 'Doing' };
  const card = mapCard(
    {
      id: fields.id ?? `card-${shortLink}`,
      shortLink,
      shortUrl: `https://trello.com/c/${shortLink}`,
      url: `https://trello.com/c/${shortLink}/12-${(fields.name ?? 'card').toLowerCase().replace(/\W+/g, '-')}`,
      name: fields.name ?? `Card ${shortLink}`,
      desc: fields.desc ?? '',
      idBoard: 'board-1',
      idList: list.id,
      dateLastActivity: nextIso(),
    },
    { id: 'board-1', name: 'Roadmap', lists: new Map([[list.id, list]]), members: new Map() },
    null,
  );
  return card!;
}

let slackTs = 1_764_000_000;
export function slackMessage(text: string, channelId = 'C0PLATFORM'): NormalizedItem {
  slackTs += 7;
  return toMessageItem(
    { type: 'message', user: 'U0ALICE', text, ts: `${slackTs}.000100` },
    {
      channelId,
      channelName: 'platform',
      workspaceUrl: 'https://acme.slack.com/',
      taskEmoji: 'white_check_mark',
      nameOf: () => 'Alice',
      fromHistory: true,
    },
  )!;
}

export function calendarEvent(
  calendarId: string,
  eventId: string,
  fields: { iCalUID: string; organizer?: string; summary?: string },
): NormalizedItem {
  return toItem(
    {
      id: eventId,
      status: 'confirmed',
      iCalUID: fields.iCalUID,
      summary: fields.summary ?? 'Weekly sync',
      organizer: fields.organizer ? { email: fields.organizer } : undefined,
      start: { dateTime: '2026-12-01T09:00:00Z' },
      end: { dateTime: '2026-12-01T09:30:00Z' },
      updated: nextIso(),
    } as never,
    { id: calendarId, name: calendarId },
  );
}

/** A connection of `provider` for `userId`, stored. */
export async function connectionOf(
  app: NestExpressApplication,
  userId: string,
  provider: string,
): Promise<TestConnection> {
  const conn = { userId, connectionId: randomUUID(), provider };
  await storeConnections(app.get(DataSource), conn);
  return conn;
}

/** One page in its own transaction, as a sync writes it; returns the written items' ids. */
export async function writeItems(
  app: NestExpressApplication,
  conn: TestConnection,
  upserts: NormalizedItem[],
  deletions: ItemDeletion[] = [],
): Promise<string[]> {
  const ds = app.get(DataSource);
  const repo = app.get(ItemsRepository);
  await ds.transaction((m) => repo.upsertPage(m, { ...conn, upserts, deletions }));
  const rows = await ds.query<{ id: string; external_id: string; kind: ItemKind }[]>(
    'SELECT id, external_id, kind FROM items WHERE connection_id = $1 AND external_id = ANY($2)',
    [conn.connectionId, upserts.map((u) => u.externalId)],
  );
  const byExternal = new Map(rows.map((r) => [r.external_id, r.id]));
  return upserts.map((u) => byExternal.get(u.externalId)!);
}

/** The live entries of a user: id -> sorted members. */
export async function liveEntries(
  app: NestExpressApplication,
  userId: string,
): Promise<Map<string, string[]>> {
  const rows = await app
    .get(DataSource)
    .query<{ id: string; member_ids: string[] }[]>(
      'SELECT id, member_ids::text[] AS member_ids FROM merged_entries WHERE user_id = $1 AND deleted_at IS NULL',
      [userId],
    );
  return new Map(rows.map((r) => [r.id, r.member_ids]));
}

/** The live entry that holds `itemId`, as its sorted members; undefined when none. */
export async function groupOf(
  app: NestExpressApplication,
  userId: string,
  itemId: string,
): Promise<string[] | undefined> {
  for (const members of (await liveEntries(app, userId)).values()) {
    if (members.includes(itemId)) return members;
  }
  return undefined;
}

/** Whether the detector has processed every item change of the user. */
export async function linkerCaughtUp(
  app: NestExpressApplication,
  userId: string,
): Promise<boolean> {
  const [row] = await app.get(DataSource).query<{ done: boolean }[]>(
    `SELECT COALESCE((SELECT change_seq FROM link_cursors WHERE user_id = $1), 0)
       >= COALESCE((SELECT max(change_seq) FROM items WHERE user_id = $1), 0) AS done`,
    [userId],
  );
  return row.done;
}
