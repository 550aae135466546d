import type { ItemDeletion, NormalizedItem } from '@pdeck/integration-sdk';

/**
 * Provider versions are compared as text, byte by byte (`COLLATE "C"` in SQL, code units here),
 * so providers emit them with a fixed width: zero-padded numbers, ISO timestamps with
 * milliseconds. For ASCII (every version format we use) both orders agree.
 */
export function isNewerVersion(candidate: string, stored: string): boolean {
  return candidate > stored;
}

function keyOf(item: { kind: string; externalId: string }): string {
  return `${item.kind}\u0000${item.externalId}`;
}

/**
 * One row per (kind, externalId), the highest version winning: INSERT ... ON CONFLICT cannot
 * touch the same row twice in one statement, and the highest version is what the row would end
 * up with if the duplicates were written one by one.
 */
export function dedupeUpserts(upserts: readonly NormalizedItem[]): NormalizedItem[] {
  const byKey = new Map<string, NormalizedItem>();
  for (const item of upserts) {
    const key = keyOf(item);
    const seen = byKey.get(key);
    if (!seen || isNewerVersion(item.externalVersion, seen.externalVersion)) byKey.set(key, item);
  }
  return byKey.size === upserts.length ? [...upserts] : [...byKey.values()];
}

/** One deletion per item; an unversioned deletion is unconditional, so it wins over versioned ones. */
export function dedupeDeletions(deletions: readonly ItemDeletion[]): ItemDeletion[] {
  const byKey = new Map<string, ItemDeletion>();
  for (const deletion of deletions) {
    const key = keyOf(deletion);
    const seen = byKey.get(key);
    if (!seen || isStrongerDeletion(deletion, seen)) byKey.set(key, deletion);
  }
  return [...byKey.values()];
}

function isStrongerDeletion(candidate: ItemDeletion, seen: ItemDeletion): boolean {
  if (seen.externalVersion === undefined) return false;
  if (candidate.externalVersion === undefined) return true;
  return isNewerVersion(candidate.externalVersion, seen.externalVersion);
}

/**
 * Postgres rejects what JSON.stringify happily writes: NUL (`\u0000`) in text and jsonb, and
 * escaped lone surrogates in jsonb. One such character from a provider would fail the whole page
 * on every retry and stall the sync, so they are cleaned. The check is one regex over the page;
 * the slower cleaning pass only runs when it matches (false positives are harmless).
 */
const SUSPECT_ESCAPE = /\\u0000|\\ud[89a-f]/i;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function cleanString(_key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\ufffd');
}

/** The page as one JSON document for `jsonb_to_recordset` (see item-page.sql.ts for why). */
export function serializeUpserts(upserts: readonly NormalizedItem[]): string {
  const json = JSON.stringify(upserts);
  return SUSPECT_ESCAPE.test(json) ? JSON.stringify(upserts, cleanString) : json;
}

function cleanText(value: string): string {
  return cleanString('', value) as string;
}

/** (kinds, external ids) of a page for an unnest, cleaned like serializeUpserts cleans them. */
export function keyColumns(
  items: readonly { kind: string; externalId: string }[],
): [string[], string[]] {
  return [items.map((i) => i.kind), items.map((i) => cleanText(i.externalId))];
}

/** Column arrays for the deletion statement's unnest (small: ids only). */
export function deletionColumns(
  deletions: readonly ItemDeletion[],
): [string[], string[], (string | null)[]] {
  return [...keyColumns(deletions), deletions.map((d) => d.externalVersion ?? null)];
}

/** The deletions' `raw` as JSON text for the tombstone statement's unnest (null when absent). */
export function deletionRaws(deletions: readonly ItemDeletion[]): (string | null)[] {
  return deletions.map((d) => {
    if (d.raw === undefined) return null;
    const json = JSON.stringify(d.raw);
    return SUSPECT_ESCAPE.test(json) ? JSON.stringify(d.raw, cleanString) : json;
  });
}
