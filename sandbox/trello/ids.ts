import { randomBytes } from 'node:crypto';

/**
 * Trello ids are Mongo ObjectIds: 4 bytes of creation time in seconds, 5 random bytes, a 3-byte
 * counter. Clients decode the first 8 hex digits as a timestamp and `since`/`before` compare
 * ids, so ids must be increasing in creation order and carry the time they were made at.
 */
export class IdFactory {
  private readonly machine = randomBytes(5).toString('hex');
  private counter = randomBytes(2).readUInt16BE(0);
  private lastMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** An id stamped with `atMs` (default now); the counter keeps ids of one second ordered. */
  objectId(atMs = this.now()): string {
    this.counter = (this.counter + 1) % 0xffffff;
    const seconds = Math.floor(atMs / 1000)
      .toString(16)
      .padStart(8, '0');
    return `${seconds}${this.machine}${this.counter.toString(16).padStart(6, '0')}`;
  }

  /**
   * A strictly increasing time in ms for a change: two changes in the same millisecond still get
   * distinct dates, so "newer than the watermark" comparisons on ISO dates never tie.
   */
  tick(atMs = this.now()): number {
    this.lastMs = Math.max(atMs, this.lastMs + 1);
    return this.lastMs;
  }
}

/** Trello dates: ISO 8601 UTC with milliseconds, e.g. `2026-03-04T09:41:17.512Z`. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** 8-character shortLink as in `https://trello.com/c/AbCd1234`. */
export function shortLink(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;
