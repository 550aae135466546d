import type { ItemKind } from '@pdeck/integration-sdk';

const KIND_WORDS: Record<ItemKind, [string, string]> = {
  event: ['event', 'events'],
  task: ['task', 'tasks'],
  message: ['message', 'messages'],
};

/** "events", "tasks and messages": what an integration syncs. */
export function kindsInWords(kinds: readonly ItemKind[]): string {
  const words = kinds.map((k) => KIND_WORDS[k][1]);
  return words.length <= 1
    ? (words[0] ?? '')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** "12 events, 1 task"; "nothing yet" when empty. */
export function countsInWords(counts: Partial<Record<ItemKind, number>>): string {
  const parts = (Object.keys(KIND_WORDS) as ItemKind[])
    .filter((k) => counts[k] !== undefined)
    .map((k) => `${counts[k]} ${KIND_WORDS[k][counts[k] === 1 ? 0 : 1]}`);
  return parts.length ? parts.join(', ') : 'nothing yet';
}
