/**
 * Reads of the occurrences API (OccurrencesService). Read-only; every statement filters by
 * user_id first, so it walks ix_items_user_change_seq's leading column.
 */

/**
 * A Google Calendar master: its raw carries a non-empty `recurrence` list. COALESCE: without the
 * key jsonb_typeof is NULL, and `NOT NULL` would drop the row from the singles too.
 */
const IS_SERIES = `COALESCE(i.provider = 'google-calendar'
  AND jsonb_typeof(i.raw->'recurrence') = 'array'
  AND jsonb_array_length(i.raw->'recurrence') > 0, false)`;

/**
 * A Google instance of a series whose master is stored (live or tombstone): the series'
 * expansion accounts for it. An instance whose master was never stored (an invitation to one
 * occurrence only) is shown as a single event, since nothing else would show it.
 */
const IS_INSTANCE_OF_STORED = `COALESCE(i.provider = 'google-calendar' AND i.raw ? 'recurringEventId'
  AND EXISTS (SELECT 1 FROM items m WHERE m.connection_id = i.connection_id AND m.kind = 'event'
    AND m.external_id = left(i.external_id, length(i.external_id) - position(':' IN reverse(i.external_id)))
      || ':' || (i.raw->>'recurringEventId')), false)`;

const ROW_COLUMNS = `i.id, i.connection_id, i.provider, i.external_id, i.container_id,
  i.container_name, i.title, i.status, i.url`;

/**
 * Single events whose stored times may meet the window, in (starts_at, id) order, in batches.
 * The caller widens the window by the largest zone offset, because all-day events are stored
 * as UTC midnights while their day is reckoned in their zone.
 * $1 user, $2 connection (or null), $3 lowest ends_at (exclusive), $4 highest starts_at
 * (exclusive), $5 lowest starts_at (inclusive), $6/$7 the batch continuation (starts_at, id) or
 * nulls, $8 batch size.
 */
export const SINGLES_SQL = `
SELECT ${ROW_COLUMNS}, i.starts_at, i.ends_at, i.all_day,
  i.raw->'start'->>'timeZone' AS start_zone, i.raw->>'calendarTimeZone' AS calendar_zone
FROM items i
WHERE i.user_id = $1 AND i.kind = 'event' AND i.deleted_at IS NULL AND i.starts_at IS NOT NULL
  AND ($2::uuid IS NULL OR i.connection_id = $2::uuid)
  AND COALESCE(i.ends_at, i.starts_at) > $3::timestamptz
  AND i.starts_at < $4::timestamptz
  AND i.starts_at >= $5::timestamptz
  AND ($6::timestamptz IS NULL OR (i.starts_at, i.id) > ($6::timestamptz, $7::uuid))
  AND NOT ${IS_SERIES}
  AND NOT ${IS_INSTANCE_OF_STORED}
ORDER BY i.starts_at, i.id
LIMIT $8`;

/** Live series of the user. $1 user, $2 connection (or null). */
export const SERIES_SQL = `
SELECT ${ROW_COLUMNS}, i.raw
FROM items i
WHERE i.user_id = $1 AND i.kind = 'event' AND i.deleted_at IS NULL
  AND ($2::uuid IS NULL OR i.connection_id = $2::uuid)
  AND ${IS_SERIES}`;

/**
 * Instances of those series, live (modified) and tombstones (cancelled), with the raw fields the
 * expander reads. $1 user, $2 connections, $3 master event ids.
 */
export const INSTANCES_SQL = `
SELECT ${ROW_COLUMNS}, i.deleted_at IS NOT NULL AS deleted,
  jsonb_build_object('recurringEventId', i.raw->'recurringEventId',
    'originalStartTime', i.raw->'originalStartTime', 'status', i.raw->'status',
    'start', i.raw->'start', 'end', i.raw->'end') AS raw
FROM items i
WHERE i.user_id = $1 AND i.kind = 'event' AND i.provider = 'google-calendar'
  AND i.connection_id = ANY($2::uuid[]) AND i.raw->>'recurringEventId' = ANY($3::text[])`;
