import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { OccurrenceDto, OccurrencesPageDto, SkippedSeriesDto } from './dto/occurrence.dto.js';
import { OCCURRENCES_DEFAULT_LIMIT } from './dto/occurrences-query.dto.js';
import { googleException, googleSeries, googleZone } from './google-events.js';
import {
  decodeOccurrenceCursor,
  encodeOccurrenceCursor,
  type CursorQuery,
  type OccurrencePosition,
} from './occurrence-cursor.js';
import {
  compareOccurrences,
  type EventTime,
  type ExceptionInput,
  expandSeries,
  type Occurrence,
  singleOccurrence,
  type Window,
} from './occurrence-expander.js';
import { INSTANCES_SQL, SERIES_SQL, SINGLES_SQL } from './occurrences.sql.js';
import { DAY, isKnownZone } from '../core/time/wall-time.js';

export interface OccurrencesQuery {
  userId: string;
  /** Epoch ms. */
  from: number;
  to: number;
  connectionId?: string;
  cursor?: string;
  limit?: number;
}

/** Columns every occurrence takes from its item. */
interface ItemRow {
  id: string;
  connection_id: string;
  provider: string;
  external_id: string;
  container_id: string | null;
  container_name: string | null;
  title: string | null;
  status: string | null;
  url: string | null;
}

interface SingleRow extends ItemRow {
  starts_at: Date;
  ends_at: Date | null;
  all_day: boolean;
  start_zone: string | null;
  calendar_zone: string | null;
}

interface SeriesRow extends ItemRow {
  raw: unknown;
}

interface InstanceRow extends SeriesRow {
  deleted: boolean;
}

/** An occurrence with what its DTO needs. */
interface Placed {
  occurrence: Occurrence;
  item: ItemRow;
  series: ItemRow | null;
  zone: string | null;
}

/**
 * All-day events are stored as UTC midnights, but their day begins at midnight in their zone,
 * up to 14 hours away (UTC-12 to UTC+14); stored times are widened by this much in SQL and the
 * exact test is done here.
 */
const ZONE_MARGIN = 16 * 3_600_000;

/**
 * GET /v1/occurrences: a user's calendar between two instants. Single events come from SQL in
 * start order, page by page; recurring series are expanded in memory on each request (the
 * window is at most 366 days and each series' work is bounded, see occurrence-expander.ts), then
 * both are merged in (start, itemId) order, which is also the cursor's order.
 */
@Injectable()
export class OccurrencesService {
  private readonly logger = new Logger(OccurrencesService.name);

  constructor(private readonly dataSource: DataSource) {}

  async list(query: OccurrencesQuery): Promise<OccurrencesPageDto> {
    const cursorQuery: CursorQuery = {
      userId: query.userId,
      from: query.from,
      to: query.to,
      connectionId: query.connectionId,
    };
    const after = decodeOccurrenceCursor(query.cursor, cursorQuery);
    const limit = query.limit ?? OCCURRENCES_DEFAULT_LIMIT;
    const window: Window = { from: query.from, to: query.to };
    // One more than the page: it tells whether another page exists.
    const want = limit + 1;
    const [singles, series] = await Promise.all([
      this.singles(query, window, after, want),
      this.series(query, window),
    ]);
    const merged = [...singles, ...series.placed.filter((p) => isAfter(p.occurrence, after))];
    merged.sort((a, b) => compareOccurrences(a.occurrence, b.occurrence));
    const page = merged.slice(0, limit);
    const hasMore = merged.length > limit;
    const last = page.at(-1)?.occurrence;
    return {
      occurrences: page.map(toDto),
      nextCursor:
        hasMore && last
          ? encodeOccurrenceCursor({ startMs: last.startMs, itemId: last.itemId }, cursorQuery)
          : null,
      hasMore,
      skipped: series.skipped,
    };
  }

  /**
   * The first `want` single events after the cursor. Rows come in stored-start order, which can
   * differ from the real order by up to ZONE_MARGIN (all-day events), so reading stops only once
   * the next stored start is beyond the `want`-th real start by more than that.
   */
  private async singles(
    query: OccurrencesQuery,
    window: Window,
    after: OccurrencePosition | undefined,
    want: number,
  ): Promise<Placed[]> {
    const batch = Math.max(want + 50, 200);
    const lowest = new Date(
      after ? Math.max(window.from, after.startMs) - ZONE_MARGIN : window.from - ZONE_MARGIN,
    );
    const found: Placed[] = [];
    let continuation: { at: Date; id: string } | null = null;
    for (;;) {
      const rows: SingleRow[] = await this.dataSource.query(SINGLES_SQL, [
        query.userId,
        query.connectionId ?? null,
        new Date(window.from - ZONE_MARGIN),
        new Date(window.to + ZONE_MARGIN),
        lowest,
        continuation?.at ?? null,
        continuation?.id ?? null,
        batch,
      ]);
      for (const row of rows) {
        const placed = placeSingle(row, window);
        if (placed && isAfter(placed.occurrence, after)) found.push(placed);
      }
      if (rows.length < batch) break;
      const lastRow = rows[rows.length - 1];
      continuation = { at: lastRow.starts_at, id: lastRow.id };
      found.sort((a, b) => compareOccurrences(a.occurrence, b.occurrence));
      found.length = Math.min(found.length, want);
      if (
        found.length === want &&
        lastRow.starts_at.getTime() - ZONE_MARGIN > found[want - 1].occurrence.startMs
      ) {
        break;
      }
    }
    return found;
  }

  /** Every occurrence of the user's recurring series in the window (not yet cut to a page). */
  private async series(
    query: OccurrencesQuery,
    window: Window,
  ): Promise<{ placed: Placed[]; skipped: SkippedSeriesDto[] }> {
    const masters: SeriesRow[] = await this.dataSource.query(SERIES_SQL, [
      query.userId,
      query.connectionId ?? null,
    ]);
    if (masters.length === 0) return { placed: [], skipped: [] };
    const instances: InstanceRow[] = await this.dataSource.query(INSTANCES_SQL, [
      query.userId,
      [...new Set(masters.map((m) => m.connection_id))],
      [...new Set(masters.map((m) => eventIdOf(m.external_id)))],
    ]);
    const byMaster = new Map<string, InstanceRow[]>();
    for (const row of instances) {
      const raw = row.raw as { recurringEventId?: unknown };
      if (typeof raw.recurringEventId !== 'string') continue;
      const key = seriesKey(row.connection_id, calendarOf(row.external_id), raw.recurringEventId);
      const list = byMaster.get(key) ?? [];
      list.push(row);
      byMaster.set(key, list);
    }

    const placed: Placed[] = [];
    const skipped: SkippedSeriesDto[] = [];
    for (const master of masters) {
      const input = googleSeries(master.id, master.raw);
      if (!input) {
        skipped.push({ itemId: master.id, reason: 'start or end is not readable' });
        continue;
      }
      const rows =
        byMaster.get(
          seriesKey(
            master.connection_id,
            calendarOf(master.external_id),
            eventIdOf(master.external_id),
          ),
        ) ?? [];
      const items = new Map<string, ItemRow>(rows.map((r) => [r.id, r]));
      const exceptions = rows
        .map((r) => googleException(r.id, r.raw, r.deleted, input.zone))
        .filter((e): e is ExceptionInput => e !== null);
      const result = expandSeries(input, exceptions, window);
      if (result.skipped) {
        skipped.push({ itemId: master.id, reason: result.skipped });
        this.logger.warn({
          msg: 'recurring event left out of occurrences',
          userId: query.userId,
          itemId: master.id,
          reason: result.skipped,
        });
        continue;
      }
      const zone = googleZone(master.raw);
      for (const occurrence of result.occurrences) {
        placed.push({
          occurrence,
          item: items.get(occurrence.itemId) ?? master,
          series: master,
          zone,
        });
      }
    }
    return { placed, skipped };
  }
}

function placeSingle(row: SingleRow, window: Window): Placed | null {
  const zone = isKnownZone(row.start_zone)
    ? row.start_zone
    : isKnownZone(row.calendar_zone)
      ? row.calendar_zone
      : null;
  let start: EventTime;
  let end: EventTime | null;
  if (row.all_day) {
    // Stored as UTC midnights of the dates (google-calendar.time.ts, parseDate).
    const startDate = row.starts_at.toISOString().slice(0, 10);
    const endMs =
      row.ends_at && row.ends_at > row.starts_at
        ? row.ends_at.getTime()
        : row.starts_at.getTime() + DAY;
    start = { date: startDate };
    end = { date: new Date(endMs).toISOString().slice(0, 10) };
  } else {
    start = { instant: row.starts_at.getTime() };
    end = row.ends_at ? { instant: row.ends_at.getTime() } : null;
  }
  const occurrence = singleOccurrence(row.id, start, end, zone ?? 'UTC', window);
  return occurrence ? { occurrence, item: row, series: null, zone } : null;
}

function isAfter(o: Occurrence, after: OccurrencePosition | undefined): boolean {
  if (!after) return true;
  return o.startMs > after.startMs || (o.startMs === after.startMs && o.itemId > after.itemId);
}

/** Google item external ids are `<calendarId>:<eventId>`; event ids hold no ':'. */
function calendarOf(externalId: string): string {
  return externalId.slice(0, externalId.lastIndexOf(':'));
}

function eventIdOf(externalId: string): string {
  return externalId.slice(externalId.lastIndexOf(':') + 1);
}

function seriesKey(connectionId: string, calendarId: string, eventId: string): string {
  return `${connectionId}\u0000${calendarId}\u0000${eventId}`;
}

function timeText(t: EventTime): string {
  return 'date' in t ? t.date : new Date(t.instant).toISOString();
}

function toDto(p: Placed): OccurrenceDto {
  const { occurrence: o, item } = p;
  return {
    itemId: o.itemId,
    recurringItemId: p.series?.id ?? null,
    title: item.title,
    startsAt: timeText(o.start),
    endsAt: timeText(o.end),
    allDay: 'date' in o.start,
    originalStartsAt: p.series ? timeText(o.originalStart) : null,
    timeZone: p.zone,
    status: item.status,
    provider: item.provider,
    connectionId: item.connection_id,
    containerId: item.container_id,
    containerName: item.container_name,
    url: item.url,
  };
}
