import type { CardInput, TrelloData } from './trello-data.js';

/** Ids of the seeded objects, for tests and the demo (ids are random per fake instance). */
export interface TrelloSeed {
  members: { alice: string; bob: string };
  boards: { product: string; personal: string; closed: string };
  lists: { todo: string; doing: string; done: string; errands: string; personalDone: string };
  labels: { bug: string; feature: string; urgent: string; unnamed: string };
  /** Product cards by a short key, e.g. `cards.onboarding`; `cards.archived` is closed. */
  cards: Record<string, string>;
}

const DAY = 86_400_000;

/**
 * Alice (member of everything) and Bob (Product only). Product: To Do / Doing / Done, 8 open
 * cards with due dates, labels (one unnamed, as Trello allows), members, one dueComplete, one
 * non-ASCII name (signature bytes), plus one archived card. Personal: 3 cards. One closed board.
 * Every card is created through TrelloData, so the history holds its createCard action, dated
 * in the week before `anchor`.
 */
export function seedTrello(data: TrelloData, anchor: Date): TrelloSeed {
  const alice = data.addMember('alice', 'Alice Example');
  const bob = data.addMember('bob', 'Bob Builder');
  const product = data.addBoard('Product', [alice.id, bob.id], { desc: 'Roadmap and releases' });
  const personal = data.addBoard('Personal', [alice.id]);
  const closed = data.addBoard('Old Projects', [alice.id], { closed: true });
  const todo = data.addList(product.id, 'To Do');
  const doing = data.addList(product.id, 'Doing');
  const done = data.addList(product.id, 'Done');
  const errands = data.addList(personal.id, 'Errands');
  const personalDone = data.addList(personal.id, 'Done');
  data.addList(closed.id, 'Backlog');
  const bug = data.addLabel(product.id, 'Bug', 'red');
  const feature = data.addLabel(product.id, 'Feature', 'green');
  const urgent = data.addLabel(product.id, 'Urgent', 'orange');
  const unnamed = data.addLabel(product.id, '', 'blue');

  const start = Math.floor(anchor.getTime() / DAY) * DAY - 7 * DAY;
  let step = 0;
  const at = () => start + 9 * 3_600_000 + step++ * 3_600_000;
  const due = (days: number) => new Date(start + (7 + days) * DAY + 16 * 3_600_000).toISOString();
  const add = (board: string, input: CardInput, by = alice.username) =>
    data.createCard(board, input, { by, atMs: at() }).id;

  const cards: Record<string, string> = {
    onboarding: add(product.id, {
      name: 'Write onboarding docs',
      idList: todo.id,
      due: due(5),
      idLabels: [feature.id],
      idMembers: [alice.id],
      desc: 'Cover sign-up and the first board.',
    }),
    login: add(
      product.id,
      {
        name: 'Fix login redirect',
        idList: doing.id,
        due: due(1),
        idLabels: [bug.id, urgent.id],
        idMembers: [bob.id],
      },
      bob.username,
    ),
    pricing: add(product.id, {
      name: 'Pricing page copy',
      idList: todo.id,
      due: due(10),
      idLabels: [unnamed.id],
    }),
    cafe: add(product.id, {
      name: 'Café menu → review',
      idList: todo.id,
      due: due(3),
      idMembers: [alice.id, bob.id],
    }),
    release: add(product.id, {
      name: 'Release 2.4',
      idList: doing.id,
      start: due(-2),
      due: due(2),
      idLabels: [feature.id],
      idMembers: [alice.id],
    }),
    metrics: add(product.id, {
      name: 'Dashboard metrics',
      idList: todo.id,
      due: due(14),
      idLabels: [feature.id],
    }),
    crash: add(
      product.id,
      {
        name: 'Crash on empty board',
        idList: done.id,
        due: due(-3),
        dueComplete: true,
        idLabels: [bug.id],
        idMembers: [bob.id],
      },
      bob.username,
    ),
    retro: add(product.id, {
      name: 'Sprint retro notes',
      idList: done.id,
      due: due(-1),
      idMembers: [alice.id, bob.id],
    }),
    archived: add(product.id, { name: 'Old spike (archived)', idList: todo.id, due: due(-5) }),
  };
  data.updateCard(cards.archived, { closed: true }, { atMs: at() });
  add(personal.id, { name: 'Renew passport', idList: errands.id, due: due(20) });
  add(personal.id, { name: 'Dentist appointment', idList: errands.id, due: due(4) });
  add(personal.id, { name: 'Buy a plant', idList: personalDone.id });
  add(closed.id, { name: 'Forgotten idea' });
  return {
    members: { alice: alice.id, bob: bob.id },
    boards: { product: product.id, personal: personal.id, closed: closed.id },
    lists: {
      todo: todo.id,
      doing: doing.id,
      done: done.id,
      errands: errands.id,
      personalDone: personalDone.id,
    },
    labels: { bug: bug.id, feature: feature.id, urgent: urgent.id, unnamed: unnamed.id },
    cards,
  };
}
