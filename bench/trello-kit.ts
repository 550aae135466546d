import { iso, shortLink } from '../sandbox/trello/ids.js';
import type { BoardRec, CardRec } from '../sandbox/trello/trello-types.js';
import { SANDBOX_TRELLO_APP } from '../sandbox/trello/trello.fake.js';
import { boardJson } from '../sandbox/trello/views.js';
import { trelloWebhookSignature } from '../sandbox/trello/webhooks.js';
import { connectThroughConsent } from '../test/harness/connect.js';
import { eventually } from '../test/harness/ports.js';
import { BENCH_USER, finishedRun, type Rig } from './kit.js';

/** A connected Trello account, its bench board and the signed deliveries the bench can send. */
export interface TrelloTarget {
  connectionId: string;
  board: BoardRec;
  /** The exact URL the webhook was registered with: Trello signs it, so the bench does too. */
  callbackUrl: string;
  /** Ids of live cards that are live items too, handed out once each (see takeCard). */
  cards: string[];
  next: number;
}

/**
 * Adds a board `Bench` to Alice's account holding `count` open cards. The cards go straight into
 * the fake's store (its createCard records one action per card and lists the board each time,
 * quadratic at this size); the service reads them through Trello's API like any others.
 */
function addBenchBoard(rig: Rig, count: number): { board: BoardRec; cards: string[] } {
  const data = rig.trello.data;
  const alice = data.member('alice');
  const board = data.addBoard('Bench', [alice.id]);
  const list = data.addList(board.id, 'Backlog');
  const at = Date.now() - 60_000;
  const cards: string[] = [];
  for (let i = 1; i <= count; i++) {
    const card: CardRec = {
      id: data.ids.objectId(at),
      idShort: i,
      shortLink: shortLink(),
      name: `Bench card ${i}`,
      desc: `Card ${i} of the webhook benchmark`,
      idBoard: board.id,
      idList: list.id,
      closed: false,
      due: null,
      dueComplete: false,
      start: null,
      dateLastActivity: iso(at),
      idMembers: [alice.id],
      idLabels: [],
      pos: 16384 * i,
    };
    data.cards.set(card.id, card);
    cards.push(card.id);
  }
  return { board, cards };
}

/**
 * Connects Alice's Trello (consent with auto=allow), waits for the full sync of her boards and
 * for the webhook on the bench board (created by the service after Trello's HEAD probe).
 */
export async function connectTrello(rig: Rig, cardCount: number): Promise<TrelloTarget> {
  const { cluster, trello } = rig;
  const { board, cards } = addBenchBoard(rig, cardCount);
  const connectionId = await connectThroughConsent(cluster, 'trello', BENCH_USER, {
    account: 'alice',
  });
  await finishedRun(cluster, "connection_id = $1 AND trigger = 'connect'", [connectionId], 300_000);
  const [{ n }] = await cluster.pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM items
     WHERE connection_id = $1 AND container_id = $2 AND deleted_at IS NULL`,
    [connectionId, board.id],
  );
  if (n !== cardCount) throw new Error(`trello sync stored ${n} bench cards of ${cardCount}`);
  const hook = await eventually(
    async () => {
      const [row] = await cluster.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_subscriptions
         WHERE connection_id = $1 AND resource_id = $2 AND status = 'active'`,
        [connectionId, board.id],
      );
      const found = [...trello.webhooks.hooks.values()].find((h) => h.idModel === board.id);
      return row.n === 1 && found ? found : undefined;
    },
    'the webhook of the bench board',
    60_000,
  );
  return { connectionId, board, callbackUrl: hook.callbackURL, cards, next: 0 };
}

/** The next unused card (each delivery deletes a different live item), or undefined when none. */
export function takeCard(target: TrelloTarget): string | undefined {
  return target.next < target.cards.length ? target.cards[target.next++] : undefined;
}

let actionCounter = 0;

/** A 24-hex action id, unique in the run (the delivery id is board id + action id). */
function actionId(): string {
  actionCounter += 1;
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `${seconds}be0cbe0cbe${actionCounter.toString(16).padStart(6, '0')}`;
}

/**
 * The signed `deleteCard` delivery Trello would POST for `cardId`: the exact body bytes and the
 * `x-trello-webhook` signature over body + callback URL. The action date is now, newer than the
 * card's version, so the deletion applies.
 */
export function deleteCardDelivery(
  target: TrelloTarget,
  rig: Rig,
  cardId: string,
): { body: string; headers: Record<string, string> } {
  const alice = rig.trello.data.member('alice');
  const { board } = target;
  const action = {
    id: actionId(),
    idMemberCreator: alice.id,
    type: 'deleteCard',
    date: new Date().toISOString(),
    data: {
      card: { id: cardId, idShort: 1 },
      list: { id: 'bench', name: 'Backlog' },
      board: { id: board.id, name: board.name, shortLink: board.shortLink },
    },
    memberCreator: { ...alice },
  };
  const body = JSON.stringify({ action, model: boardJson(board) });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Trello-Bench',
      'x-trello-webhook': trelloWebhookSignature(
        SANDBOX_TRELLO_APP.secret,
        body,
        target.callbackUrl,
      ),
    },
  };
}
