/**
 * SQL of the items write path (ItemsRepository). Kept apart so the statements can be read as a
 * whole; every statement is set-based: one round trip per page, whatever the page size.
 *
 * Versions compare with COLLATE "C" (byte order), independent of the database's locale: see
 * isNewerVersion in item-page-input.ts.
 */

/**
 * Per-user, transaction-scoped lock taken before anything allocates a change_seq.
 *
 * Why: change_seq comes from a sequence, and nextval is not transactional. Without this lock,
 * transaction A could take seq 10, transaction B seq 11, B commit first, a feed reader page up to
 * 11 and move its cursor past 10 before A commits: A's change would never be read. Holding the
 * user's lock from the first nextval until commit (xact locks are released only after the commit
 * is visible) makes, per user, commit order equal change_seq order, so a reader that sees seq N
 * committed also sees every smaller seq of that user. The feed always filters by user, so this is
 * all it needs, and writers of different users still run in parallel.
 *
 * Why not filter the feed by xmin / pg_snapshot_xmin instead: xids are assigned when a
 * transaction first writes, not when it calls nextval, so xid order says nothing about
 * change_seq order; and holding back every row newer than the oldest running transaction would
 * stall every user's feed behind one long transaction of anybody.
 */
export const LOCK_USER_FEED_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('items-feed:' || $1, 0))`;

/**
 * The page upsert: one statement. The page arrives as one JSON document expanded with
 * jsonb_to_recordset: measured faster here than unnest() over 19 typed arrays (see the report in
 * items-throughput.test.ts), because it needs one parameter that JSON.stringify builds natively
 * instead of per-element array escaping in node-postgres, and it turns JSON arrays into text[]
 * without the 2-D array problem of unnest.
 *
 * A row is rewritten only when the incoming version is strictly newer; equal or older versions
 * (late webhooks, replays) leave the row, its change_seq and its updated_at alone. The proposed
 * row's nextval (allocated under the feed lock) becomes the new change_seq, so an update costs no
 * second nextval. A newer version also revives a tombstone. `xmax = 0` on the returned row tells
 * an insert from an update (an updated row carries our xid as xmax).
 * $1 user, $2 connection, $3 provider, $4 page JSON, $5 generation (null outside full passes).
 */
export const UPSERT_PAGE_SQL = `
WITH written AS (
  INSERT INTO items AS i (
    id, user_id, connection_id, provider, kind, external_id, container_id, container_name,
    title, body, status, starts_at, ends_at, all_day, due_at, url, assignees, labels, author,
    external_updated_at, external_version, raw, seen_generation, change_seq)
  SELECT gen_random_uuid(), $1, $2, $3, t.kind, t."externalId", t."containerId", t."containerName",
    t.title, t.body, t.status, t."startsAt", t."endsAt", COALESCE(t."allDay", false), t."dueAt",
    t.url, COALESCE(t.assignees, '{}'), COALESCE(t.labels, '{}'), t.author, t."externalUpdatedAt",
    t."externalVersion", COALESCE(t.raw, '{}'), COALESCE($5::int, 0), nextval('items_change_seq')
  FROM jsonb_to_recordset($4::jsonb) AS t(
    kind text, "externalId" text, "containerId" text, "containerName" text, title text,
    body text, status text, "startsAt" timestamptz, "endsAt" timestamptz, "allDay" boolean,
    "dueAt" timestamptz, url text, assignees text[], labels text[], author text,
    "externalUpdatedAt" timestamptz, "externalVersion" text, raw jsonb)
  ON CONFLICT (connection_id, kind, external_id) DO UPDATE SET
    container_id = EXCLUDED.container_id, container_name = EXCLUDED.container_name,
    title = EXCLUDED.title, body = EXCLUDED.body, status = EXCLUDED.status,
    starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, all_day = EXCLUDED.all_day,
    due_at = EXCLUDED.due_at, url = EXCLUDED.url, assignees = EXCLUDED.assignees,
    labels = EXCLUDED.labels, author = EXCLUDED.author,
    external_updated_at = EXCLUDED.external_updated_at,
    external_version = EXCLUDED.external_version, raw = EXCLUDED.raw,
    seen_generation = COALESCE($5::int, i.seen_generation),
    change_seq = EXCLUDED.change_seq, deleted_at = NULL, updated_at = now()
  WHERE i.external_version COLLATE "C" < EXCLUDED.external_version COLLATE "C"
  RETURNING (i.xmax = 0) AS inserted, i.change_seq
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
  count(*) FILTER (WHERE NOT inserted)::int AS updated,
  min(change_seq)::text AS min_seq, max(change_seq)::text AS max_seq
FROM written`;

/**
 * Full pass only, and only when some rows of the page were left unchanged: marks them seen in
 * this generation so the sweep keeps them. Rows the upsert wrote already carry the generation
 * (hence `<> $2`). No change_seq, no updated_at: being listed again is not a change.
 * $1 connection, $2 generation, $3 kinds, $4 external ids.
 */
export const MARK_SEEN_SQL = `
UPDATE items AS i SET seen_generation = $2
FROM unnest($3::text[], $4::text[]) AS t(kind, external_id)
WHERE i.connection_id = $1 AND i.kind = t.kind AND i.external_id = t.external_id
  AND i.seen_generation <> $2`;

/**
 * Tombstones: only live rows, and only when the deletion has no version or one at least as new
 * as the stored one (an old deletion replayed after a newer edit is ignored). The deletion's
 * version is stored, so a late upsert of an older version cannot revive the item.
 * $1 connection, $2 kinds, $3 external ids, $4 versions (null = unversioned).
 */
export const DELETE_PAGE_SQL = `
WITH d AS (
  UPDATE items AS i SET deleted_at = now(), change_seq = nextval('items_change_seq'),
    external_version = COALESCE(t.version, i.external_version), updated_at = now()
  FROM unnest($2::text[], $3::text[], $4::text[]) AS t(kind, external_id, version)
  WHERE i.connection_id = $1 AND i.kind = t.kind AND i.external_id = t.external_id
    AND i.deleted_at IS NULL
    AND (t.version IS NULL OR t.version COLLATE "C" >= i.external_version COLLATE "C")
  RETURNING i.change_seq
)
SELECT count(*)::int AS deleted, min(change_seq)::text AS min_seq, max(change_seq)::text AS max_seq
FROM d`;

/**
 * Tombstones for items never stored, for deletions that ask for one (`tombstoneIfUnknown`):
 * events that may be applied out of order (a Slack deletion processed before its creation), so
 * the creation arriving later, with an older version, cannot bring the item to life; and
 * deletions a reader needs to see (a cancelled instance of a recurring Google event), stored
 * with the deletion's `raw`. An unversioned deletion stores the empty version, which sorts below
 * every real one: it claims no order, so any later live copy revives the item. Existing rows are
 * left to DELETE_PAGE_SQL.
 * $1 user, $2 connection, $3 provider, $4 kinds, $5 external ids, $6 versions, $7 raw (JSON text).
 */
export const TOMBSTONE_UNKNOWN_SQL = `
WITH t AS (
  SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[])
    AS t(kind, external_id, version, raw)
  WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.connection_id = $2 AND i.kind = t.kind
                      AND i.external_id = t.external_id)
), d AS (
  INSERT INTO items (id, user_id, connection_id, provider, kind, external_id, external_version,
    raw, deleted_at, change_seq)
  SELECT gen_random_uuid(), $1, $2, $3, t.kind, t.external_id, COALESCE(t.version, ''),
    COALESCE(t.raw::jsonb, '{}'), now(), nextval('items_change_seq')
  FROM t
  ON CONFLICT (connection_id, kind, external_id) DO NOTHING
  RETURNING change_seq
)
SELECT count(*)::int AS deleted, min(change_seq)::text AS min_seq, max(change_seq)::text AS max_seq
FROM d`;

/**
 * End of a full pass: tombstones what the pass did not see. Rows changed after the pass started
 * ($4, optional) came from live writes (webhooks, incremental) and exist at the provider even
 * though the pass's listing may have missed them, so they are kept.
 * $1 connection, $2 container, $3 generation, $4 change_seq at pass start (or null).
 */
export const SWEEP_SQL = `
WITH d AS (
  UPDATE items SET deleted_at = now(), change_seq = nextval('items_change_seq'), updated_at = now()
  WHERE connection_id = $1 AND container_id = $2 AND seen_generation < $3 AND deleted_at IS NULL
    AND ($4::bigint IS NULL OR change_seq <= $4::bigint)
  RETURNING change_seq
)
SELECT count(*)::int AS deleted, min(change_seq)::text AS min_seq, max(change_seq)::text AS max_seq
FROM d`;

/** Hard delete of a connection's items and of the links that point at them. $1 connection. */
export const PURGE_CONNECTION_SQL = `
WITH gone AS (DELETE FROM items WHERE connection_id = $1 RETURNING id),
links AS (
  DELETE FROM item_links
  WHERE item_id IN (SELECT id FROM gone) OR linked_item_id IN (SELECT id FROM gone)
)
SELECT count(*)::int AS purged FROM gone`;

/**
 * Highest change_seq handed out so far (0 before the first), as a scalar subquery: the one rule,
 * used alone (CURRENT_CHANGE_SEQ_SQL) and inside other statements (a full pass's start).
 */
export const CURRENT_CHANGE_SEQ_EXPR =
  '(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM items_change_seq)';

export const CURRENT_CHANGE_SEQ_SQL = `SELECT ${CURRENT_CHANGE_SEQ_EXPR}::text AS seq`;
