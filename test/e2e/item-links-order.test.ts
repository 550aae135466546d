import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserLinkPass } from '../../src/links/user-link-pass.js';
import type { NormalizedItem } from '@pdeck/integration-sdk';
import { INTEGRATIONS } from '../../src/providers/integrations.js';
import type { TestConnection } from '../support/items-fixtures.js';
import {
  calendarEvent,
  connectionOf,
  jiraIssue,
  linkerCaughtUp,
  liveEntries,
  slackMessage,
  trelloCard,
  writeItems,
} from '../support/links-kit.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

const ONE = 'https://one.atlassian.net';
const TWO = 'https://two.atlassian.net';

/** Items by label, each with the connection (provider) it comes from. */
type Label = 'issueOne' | 'issueTwo' | 'card' | 'byUrl' | 'byKey' | 'work' | 'home' | 'noise';
const PROVIDER: Record<Label, string> = {
  issueOne: 'jira',
  issueTwo: 'jira',
  card: 'trello',
  byUrl: 'slack',
  byKey: 'slack',
  work: 'google-calendar',
  home: 'google-calendar',
  noise: 'slack',
};
const LABELS = Object.keys(PROVIDER) as Label[];

/** A new version of each item on every call (same evidence): what a later sync writes. */
function build(label: Label): NormalizedItem {
  switch (label) {
    case 'issueOne':
      return jiraIssue(ONE, 'ABC-1');
    case 'issueTwo':
      return jiraIssue(TWO, 'ABC-1');
    case 'card':
      return trelloCard('OrdR1234', { desc: `Jira ${ONE}/browse/ABC-1` });
    case 'byUrl':
      return { ...slackMessage(`<${ONE}/browse/ABC-1|the issue>`), externalId: 'C1:1.000001' };
    case 'byKey':
      return { ...slackMessage('ABC-1 again, sigh'), externalId: 'C1:1.000002' };
    case 'work':
      return calendarEvent('alice@work.example', 'e1', { iCalUID: 'm@x', organizer: 'o@x' });
    case 'home':
      return calendarEvent('alice@home.example', 'e7', { iCalUID: 'm@x', organizer: 'o@x' });
    case 'noise':
      return { ...slackMessage('UTF-8 and ISO-8601'), externalId: 'C1:1.000003' };
  }
}

describe('link detection does not depend on the order items arrive in', () => {
  let t: TestApp;
  let run = 0;

  beforeAll(async () => {
    t = await startTestApp({ integrations: INTEGRATIONS });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs passes of `batch` items for the user until the detector has seen every change. */
  async function drain(userId: string, batch: number): Promise<void> {
    const pass = t.app.get(UserLinkPass);
    for (let i = 0; i < 1000; i++) {
      const result = await pass.run(userId, batch);
      if (result.busy) await new Promise((r) => setTimeout(r, 10));
      else if (!result.more && (await linkerCaughtUp(t.app, userId))) return;
    }
    throw new Error('the detector did not catch up');
  }

  /** The user's groups as sorted label lists, themselves sorted. */
  async function groups(userId: string, ids: Map<string, Label>): Promise<string[][]> {
    const entries = await liveEntries(t.app, userId);
    return [...entries.values()]
      .map((members) => members.map((m) => ids.get(m)!).sort())
      .sort((a, b) => a.join().localeCompare(b.join()));
  }

  it('groups the same way for every arrival order and batch size, and a split stays split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(LABELS, { minLength: LABELS.length, maxLength: LABELS.length }),
        fc.shuffledSubarray(LABELS, { minLength: LABELS.length, maxLength: LABELS.length }),
        fc.integer({ min: 1, max: 3 }),
        async (order, again, batch) => {
          const userId = `user-order-${run++}`;
          const conns = new Map<string, TestConnection>();
          const ids = new Map<string, Label>();
          const connFor = async (label: Label): Promise<TestConnection> => {
            // Two Google accounts, two Jira sites; one connection for each other provider.
            const key = label === 'home' || label === 'issueTwo' ? label : PROVIDER[label];
            if (!conns.has(key)) conns.set(key, await connectionOf(t.app, userId, PROVIDER[label]));
            return conns.get(key)!;
          };
          for (const label of order) {
            const [id] = await writeItems(t.app, await connFor(label), [build(label)]);
            ids.set(id, label);
            await drain(userId, batch);
          }
          expect(await groups(userId, ids)).toEqual([
            ['byKey', 'byUrl', 'card', 'issueOne', 'issueTwo'],
            ['home', 'work'],
            ['noise'],
          ]);

          // Split the card from the issue, then every item changes again, in another order.
          const byLabel = new Map([...ids].map(([id, label]) => [label, id]));
          const res = await fetch(
            `${t.baseUrl}/v1/item-links?userId=${userId}&itemId=${byLabel.get('card')}`,
            { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } },
          );
          const [link] = ((await res.json()) as { links: { id: string }[] }).links;
          const split = await fetch(`${t.baseUrl}/v1/item-links/${link.id}?userId=${userId}`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
          });
          expect(split.status).toBe(204);
          for (const label of again) {
            await writeItems(t.app, await connFor(label), [build(label)]);
            await drain(userId, batch);
          }
          expect(await groups(userId, ids)).toEqual([
            ['byKey', 'byUrl', 'issueOne', 'issueTwo'],
            ['card'],
            ['home', 'work'],
            ['noise'],
          ]);
          const live = await t.app
            .get(DataSource)
            .query<{ n: number }[]>(
              'SELECT count(*)::int AS n FROM merged_entries WHERE user_id = $1 AND deleted_at IS NULL',
              [userId],
            );
          expect(live[0].n).toBe(4);
        },
      ),
      { numRuns: 6 },
    );
  });
});
