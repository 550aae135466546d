import type { CalendarEvent } from './event-types.js';

/**
 * A lazily generated block of events (100k for benchmarks) that costs no memory until an event
 * is modified. Position i is always the same event, so page tokens can be plain offsets.
 */
export interface BaseGenerator {
  count: number;
  make(index: number): CalendarEvent;
  /** The same event as `make`, already serialized (the fast path for big pages). */
  json?(index: number): string;
  idAt(index: number): string;
  indexOf(id: string): number | undefined;
}

interface Version {
  event: CalendarEvent;
  seq: number;
}

/**
 * One calendar's events: an optional base generator plus an overlay of every event written
 * since (created, modified, cancelled), each stamped with a sequence number. Incremental sync is
 * "overlay entries with seq > token seq", read from an append-only change log whose indexes
 * double as page cursors.
 */
export class EventStore {
  private base?: BaseGenerator;
  private readonly overlay = new Map<string, Version>();
  /** Ids that the base does not produce, in creation order: positions base.count.. */
  private readonly extra: string[] = [];
  private readonly changes: Array<{ id: string; seq: number }> = [];
  private readonly exceptionIds = new Map<string, Set<string>>();
  private seqCounter = 0;
  private lastMs = 0;
  private lastUpdatedIso = '';

  constructor(private readonly clock: () => number) {}

  /** Sequence number of the latest write; a sync token carries the one it was issued at. */
  get seq(): number {
    return this.seqCounter;
  }

  /** Number of scan positions (base block + extra events, cancelled ones included). */
  get size(): number {
    return (this.base?.count ?? 0) + this.extra.length;
  }

  get changeCount(): number {
    return this.changes.length;
  }

  /** RFC 3339 time of the latest write, for the list response's `updated`. */
  get lastUpdated(): string {
    return this.lastUpdatedIso || new Date(0).toISOString();
  }

  /** Replaces the generated block; overlay entries of the old block are dropped. */
  setBase(base: BaseGenerator): void {
    if (this.base)
      for (const id of this.overlay.keys())
        if (this.base.indexOf(id) !== undefined) this.overlay.delete(id);
    this.base = base;
    if (base.count > 0) this.lastUpdatedIso ||= base.make(base.count - 1).updated;
  }

  at(position: number): CalendarEvent | undefined {
    const baseCount = this.base?.count ?? 0;
    if (position < baseCount) {
      const generated = this.base!.make(position);
      return this.overlay.get(generated.id)?.event ?? generated;
    }
    const id = this.extra[position - baseCount];
    return id === undefined ? undefined : this.overlay.get(id)?.event;
  }

  /** Serialized generated event at `position`, or undefined once it was overwritten. */
  baseJson(position: number): string | undefined {
    const base = this.base;
    if (!base?.json || position >= base.count) return undefined;
    if (this.overlay.size > 0 && this.overlay.has(base.idAt(position))) return undefined;
    return base.json(position);
  }

  get(id: string): CalendarEvent | undefined {
    const written = this.overlay.get(id);
    if (written) return written.event;
    const index = this.base?.indexOf(id);
    return index === undefined ? undefined : this.base!.make(index);
  }

  /** Writes a full event, stamping `updated` (strictly increasing, ms precision) and `etag`. */
  put(event: CalendarEvent): CalendarEvent {
    const ms = Math.max(this.clock(), this.lastMs + 1);
    this.lastMs = ms;
    const stamped: CalendarEvent = {
      ...event,
      updated: new Date(ms).toISOString(),
      etag: `"${ms}000"`,
    };
    const seq = ++this.seqCounter;
    const isNew = !this.overlay.has(event.id) && this.base?.indexOf(event.id) === undefined;
    if (isNew) this.extra.push(event.id);
    this.overlay.set(event.id, { event: stamped, seq });
    this.changes.push({ id: event.id, seq });
    this.lastUpdatedIso = stamped.updated;
    if (stamped.recurringEventId) {
      const set = this.exceptionIds.get(stamped.recurringEventId) ?? new Set<string>();
      set.add(stamped.id);
      this.exceptionIds.set(stamped.recurringEventId, set);
    }
    return stamped;
  }

  /** Modified or cancelled instances of a recurring series, by instance id. */
  exceptionsOf(masterId: string): Map<string, CalendarEvent> {
    const out = new Map<string, CalendarEvent>();
    for (const id of this.exceptionIds.get(masterId) ?? [])
      out.set(id, this.overlay.get(id)!.event);
    return out;
  }

  /** First change-log index whose seq is greater than `seq` (binary search: seqs only grow). */
  firstChangeAfter(seq: number): number {
    let lo = 0;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changes[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The change at log index `i`, or undefined past the end. `current` is false when the same
   * event was written again later: the later entry reports it, so this one is skipped.
   */
  changeAt(i: number): { event: CalendarEvent; seq: number; current: boolean } | undefined {
    const entry = this.changes[i];
    if (!entry) return undefined;
    const latest = this.overlay.get(entry.id)!;
    return { event: latest.event, seq: entry.seq, current: latest.seq === entry.seq };
  }
}
