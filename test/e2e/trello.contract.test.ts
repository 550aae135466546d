import { expect } from 'vitest';
import { TrelloFake } from '../../sandbox/trello/trello.fake.js';
import { trelloWebhookSignature } from '../../sandbox/trello/webhooks.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { TrelloProvider } from '../../src/providers/trello/trello.provider.js';
import {
  describeProviderContract,
  type ContractContext,
  type ContractHarness,
  type ContractStarted,
  type ExpectedChange,
} from '@pdeck/integration-sdk/testing';
import { connectAlice, trelloEnv } from '../support/trello-e2e-kit.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Trello against TrelloFake: OAuth 1.0a consent with `auto=allow&account=alice`; items are the
 * open cards (of open lists) of Alice's open boards, keyed by card id; changes arrive as signed
 * webhook deliveries, one webhook per board.
 */
class TrelloHarness implements ContractHarness {
  private fake?: TrelloFake;
  private app?: TestApp;

  async start(): Promise<ContractStarted> {
    this.fake = new TrelloFake({ webhooks: { baseDelayMs: 50 } });
    await this.fake.start();
    this.app = await startTestApp({
      port: await freePort(),
      integrations: [TrelloProvider],
      env: trelloEnv(this.fake),
    });
    return { app: this.app, fakeUrl: this.fake.url };
  }

  connect(app: TestApp, userId: string): Promise<string> {
    return connectAlice(app, userId, (url) => {
      expect(url.origin).toBe(new URL(this.trello.url).origin);
      expect(url.pathname).toBe('/1/OAuthAuthorizeToken');
    });
  }

  expectedAccount() {
    return { accountId: this.seed.members.alice, accountLabel: 'alice' };
  }

  /** Alice's open boards, their open cards in open lists: read from the fake's data. */
  async sourceItems(): Promise<string[]> {
    const { data } = this.trello;
    const alice = this.seed.members.alice;
    return [...data.boards.values()]
      .filter((b) => !b.closed && b.idMembers.includes(alice))
      .flatMap((b) => data.cardsOf(b.id))
      .filter((c) => !c.closed && !data.list(c.idList).closed)
      .map((c) => c.id);
  }

  /** Renames a card: an updateCard action, delivered signed to the board's webhook. */
  async mutate(): Promise<ExpectedChange> {
    const title = `Renamed by the contract ${Date.now()}`;
    const card = this.trello.updateCard(this.seed.cards.onboarding, { name: title });
    return { externalId: card.id, title };
  }

  async deleteAtSource(): Promise<string> {
    const cardId = this.seed.cards.pricing;
    this.trello.deleteCard(cardId);
    return cardId;
  }

  /** A well-formed delivery for a watched board, signed with the wrong secret. */
  async forgeWebhook(ctx: ContractContext): Promise<number> {
    const board = this.trello.data.board(this.seed.boards.product);
    const [action] = this.trello.actions(board.id);
    const body = JSON.stringify({ action, model: { id: board.id, name: board.name } });
    const url = `${ctx.app.baseUrl}/v1/webhooks/trello`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-trello-webhook': trelloWebhookSignature('not-the-app-secret', body, url),
      },
      body,
    });
    return res.status;
  }

  async expectDisconnected(_ctx: ContractContext, creds: ConnectionCredentials): Promise<void> {
    const fake = this.trello;
    expect(fake.webhooks.ofToken(creds.accessToken)).toEqual([]);
    expect(fake.oauth.active(creds.accessToken)).toBeUndefined();
    expect(fake.oauth.tokens.get(creds.accessToken)?.revoked).toBe(true);
  }

  whenIdle(): Promise<void> {
    return this.trello.whenIdle();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.fake?.stop();
  }

  private get trello(): TrelloFake {
    if (!this.fake) throw new Error('harness not started');
    return this.fake;
  }

  private get seed() {
    const seed = this.trello.seed;
    if (!seed) throw new Error('the Trello fake was started without its seed');
    return seed;
  }
}

describeProviderContract('trello', new TrelloHarness());
