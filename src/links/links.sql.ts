/**
 * SQL of cross-source links (docs/cross-source.md). Every statement is set-based: one round trip
 * for a whole batch of items, whatever its size. Every statement filters by user or by ids the
 * caller read for that user, so nothing crosses users. A DELETE whose rows are needed is wrapped
 * in a CTE with a final SELECT: TypeORM answers a bare DELETE ... RETURNING with [rows, count].
 */

/**
 * The user's linker lock, transaction-scoped: one linker per user at a time (detector passes in
 * any number of worker processes, and the split/join routes), so evidence, links and entries
 * are always rewritten from a consistent state. The detector only tries it and skips a user
 * whose lock is held; the routes wait for it.
 */
export const LOCK_USER_LINKS_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('item-links:' || $1, 0))`;
export const TRY_LOCK_USER_LINKS_SQL = `SELECT pg_try_advisory_xact_lock(hashtextextended('item-links:' || $1, 0)) AS locked`;

/**
 * The merged feed's lock, held from the first nextval('merged_change_seq') until commit: per
 * user, commit order equals change_seq order, so a reader paging by `change_seq > cursor` never
 * skips an entry (the reasoning of LOCK_USER_FEED_SQL in src/items/item-page.sql.ts).
 */
export const LOCK_MERGED_FEED_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('merged-feed:' || $1, 0))`;

/**
 * Users with work: items changed after their cursor, or a recheck noted by the purge trigger.
 * Users come from `connections` (every item belongs to a connection; its unique index leads with
 * user_id), and each probe is one descent of ix_items_user_change_seq.
 * $1 how many users at most.
 */
export const USERS_WITH_WORK_SQL = `
SELECT u.user_id FROM (SELECT DISTINCT user_id FROM connections) u
LEFT JOIN link_cursors c ON c.user_id = u.user_id
WHERE EXISTS (SELECT 1 FROM items i
              WHERE i.user_id = u.user_id AND i.change_seq > COALESCE(c.change_seq, 0))
UNION
SELECT DISTINCT user_id FROM link_rechecks
LIMIT $1`;

export const CURSOR_SQL = `SELECT change_seq::text AS change_seq FROM link_cursors WHERE user_id = $1`;

/** $1 user, $2 change_seq processed up to. Never moves backwards. */
export const ADVANCE_CURSOR_SQL = `
INSERT INTO link_cursors (user_id, change_seq, updated_at) VALUES ($1, $2::bigint, now())
ON CONFLICT (user_id) DO UPDATE SET
  change_seq = GREATEST(link_cursors.change_seq, EXCLUDED.change_seq), updated_at = now()`;

/** The purge notes of a user, taken: notes written after this statement stay for the next pass. */
export const TAKE_RECHECKS_SQL = `
WITH taken AS (DELETE FROM link_rechecks WHERE user_id = $1 RETURNING id) SELECT id FROM taken`;

/** Live entries of a user with a member that no longer exists (purged). */
export const BROKEN_ENTRIES_SQL = `
SELECT e.id FROM merged_entries e
WHERE e.user_id = $1 AND e.deleted_at IS NULL
  AND EXISTS (SELECT 1 FROM unnest(e.member_ids) AS m(id)
              WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = m.id))`;

/** The next batch of a user's changed items, in change_seq order. $1 user, $2 after, $3 limit. */
export const CHANGED_ITEMS_SQL = `
SELECT id, provider, kind, external_id, container_id, title, body, url, raw,
  deleted_at IS NOT NULL AS deleted, change_seq::text AS change_seq
FROM items WHERE user_id = $1 AND change_seq > $2::bigint
ORDER BY items.change_seq LIMIT $3`;

/** Removes the evidence of these items and returns it (what they said before). $1 item ids. */
export const TAKE_EVIDENCE_SQL = `
WITH taken AS (
  DELETE FROM item_link_evidence WHERE item_id = ANY($1::uuid[])
  RETURNING item_id, key, role, qualifier
) SELECT * FROM taken`;

/** $1 user, $2 JSON [{itemId, key, role, qualifier}]. */
export const INSERT_EVIDENCE_SQL = `
INSERT INTO item_link_evidence (item_id, user_id, key, role, qualifier)
SELECT t."itemId", $1, t.key, t.role, t.qualifier
FROM jsonb_to_recordset($2::jsonb) AS t("itemId" uuid, key text, role text, qualifier text)
ON CONFLICT DO NOTHING`;

/** Items that reference any of these keys. $1 user, $2 keys. */
export const REFERENCERS_SQL = `
SELECT DISTINCT item_id FROM item_link_evidence
WHERE user_id = $1 AND role = 'reference' AND key = ANY($2::text[])`;

export const EVIDENCE_OF_ITEMS_SQL = `
SELECT item_id, key, role, qualifier FROM item_link_evidence WHERE item_id = ANY($1::uuid[])`;

/** Every row of these keys (holders and referencers). $1 user, $2 keys. */
export const EVIDENCE_OF_KEYS_SQL = `
SELECT item_id, key, role, qualifier FROM item_link_evidence
WHERE user_id = $1 AND key = ANY($2::text[])`;

/** The holders (identity, alias) of these keys. $1 user, $2 keys. */
export const HOLDERS_OF_KEYS_SQL = `
SELECT item_id, key, role, qualifier FROM item_link_evidence
WHERE user_id = $1 AND key = ANY($2::text[]) AND role <> 'reference'`;

/** References of these items. $1 item ids. */
export const REFERENCES_OF_ITEMS_SQL = `
SELECT item_id, key, role, qualifier FROM item_link_evidence
WHERE item_id = ANY($1::uuid[]) AND role = 'reference'`;

/**
 * Lookups by ids go through a MATERIALIZED CTE on the id index and filter by user after it: the
 * user's own index matches every row of a large user, and the planner, misjudging how many,
 * would otherwise scan all of them for each batch (measured: the linker went quadratic).
 */

/** The live items among these ids, of this user. $1 user, $2 ids. */
export const LIVE_ITEMS_SQL = `
WITH hit AS MATERIALIZED (
  SELECT id, user_id FROM items WHERE id = ANY($2::uuid[]) AND deleted_at IS NULL
) SELECT id FROM hit WHERE user_id = $1`;

/** Links with an endpoint among these items (both columns are indexed). $1 user, $2 item ids. */
export const LINKS_TOUCHING_SQL = `
WITH hit AS MATERIALIZED (
  SELECT * FROM item_links WHERE item_id = ANY($2::uuid[])
  UNION
  SELECT * FROM item_links WHERE linked_item_id = ANY($2::uuid[])
) SELECT id, item_id, linked_item_id, origin, confidence, reason, evidence FROM hit
WHERE user_id = $1`;

/** Every link (manual ones too) of deleted items. $1 item ids. */
export const DELETE_LINKS_OF_ITEMS_SQL = `
WITH gone AS (
  DELETE FROM item_links WHERE item_id = ANY($1::uuid[]) OR linked_item_id = ANY($1::uuid[])
  RETURNING item_id, linked_item_id
) SELECT * FROM gone`;

export const DELETE_LINKS_SQL = `
WITH gone AS (DELETE FROM item_links WHERE id = ANY($1::uuid[]) RETURNING item_id, linked_item_id)
SELECT * FROM gone`;

/** Splits one link of a user. $1 link id, $2 user. */
export const SPLIT_LINK_SQL = `
WITH gone AS (
  DELETE FROM item_links WHERE id = $1 AND user_id = $2 RETURNING item_id, linked_item_id
) SELECT * FROM gone`;

/**
 * Detected links, new or changed. A manual link of the same pair is left as it is: what a person
 * joined stays joined. $1 user, $2 JSON [{itemId, linkedItemId, reason, confidence, evidence}].
 */
export const UPSERT_DETECTED_LINKS_SQL = `
INSERT INTO item_links AS l (id, item_id, linked_item_id, user_id, reason, confidence, origin, evidence)
SELECT gen_random_uuid(), t."itemId", t."linkedItemId", $1, t.reason, t.confidence, 'detected', t.evidence
FROM jsonb_to_recordset($2::jsonb) AS t(
  "itemId" uuid, "linkedItemId" uuid, reason text, confidence float8, evidence jsonb)
ON CONFLICT (item_id, linked_item_id) DO UPDATE SET
  reason = EXCLUDED.reason, confidence = EXCLUDED.confidence, evidence = EXCLUDED.evidence,
  updated_at = now()
WHERE l.origin = 'detected'`;

/** The rejected pairs among these candidate pairs. $1 smaller ids, $2 larger ids. */
export const REJECTED_PAIRS_SQL = `
SELECT r.item_id, r.linked_item_id FROM item_link_rejections r
JOIN unnest($1::uuid[], $2::uuid[]) AS p(a, b) ON r.item_id = p.a AND r.linked_item_id = p.b`;

/** Rejected pairs with both items among these ids. $1 user, $2 ids. */
export const REJECTIONS_AMONG_SQL = `
SELECT item_id, linked_item_id FROM item_link_rejections
WHERE user_id = $1 AND item_id = ANY($2::uuid[]) AND linked_item_id = ANY($2::uuid[])`;

/** Which entry these items are in (merged_entry_members' primary key). $1 user, $2 item ids. */
export const MEMBERSHIP_SQL = `
SELECT item_id, entry_id FROM merged_entry_members
WHERE item_id = ANY($2::uuid[]) AND user_id = $1`;

/** These entries, when live. $1 user, $2 entry ids. */
export const LIVE_ENTRIES_SQL = `
WITH hit AS MATERIALIZED (
  SELECT id, user_id, member_ids FROM merged_entries
  WHERE id = ANY($2::uuid[]) AND deleted_at IS NULL
) SELECT id, member_ids::text[] AS member_ids FROM hit WHERE user_id = $1`;

/** Items that are in no live entry any more (deleted). $1 item ids. */
export const DELETE_MEMBERSHIP_SQL = `DELETE FROM merged_entry_members WHERE item_id = ANY($1::uuid[])`;

/** Items and the live entry they are now in. $1 user, $2 item ids, $3 entry ids. */
export const UPSERT_MEMBERSHIP_SQL = `
INSERT INTO merged_entry_members (item_id, entry_id, user_id)
SELECT t.item_id, t.entry_id, $1 FROM unnest($2::uuid[], $3::uuid[]) AS t(item_id, entry_id)
ON CONFLICT (item_id) DO UPDATE SET entry_id = EXCLUDED.entry_id`;

/**
 * Writes entries: live ones with their members, tombstones (`gone`) with the members they had.
 * Each gets a new change_seq; call under LOCK_MERGED_FEED_SQL. $1 user, $2 JSON
 * [{id, members, gone}].
 */
export const WRITE_ENTRIES_SQL = `
INSERT INTO merged_entries AS e (id, user_id, member_ids, change_seq, deleted_at, updated_at)
SELECT t.id, $1, t.members, nextval('merged_change_seq'), CASE WHEN t.gone THEN now() END, now()
FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, members uuid[], gone boolean)
ON CONFLICT (id) DO UPDATE SET
  member_ids = EXCLUDED.member_ids, change_seq = EXCLUDED.change_seq,
  deleted_at = EXCLUDED.deleted_at, updated_at = now()`;

/** Links of a user for the API, by id, optionally of one item. */
export const LINK_COLUMNS = `id, item_id, linked_item_id, origin, confidence, reason, evidence,
  created_at, updated_at`;
