import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { decodeFeedCursor, encodeFeedCursor } from './feed-cursor.js';

describe('feed cursor', () => {
  it('round-trips a change_seq, up to the bigint maximum', () => {
    for (const seq of ['0', '1', '42', '9223372036854775807']) {
      const cursor = encodeFeedCursor(seq);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeFeedCursor(cursor)).toBe(seq);
    }
  });

  it('starts at 0 without a cursor', () => {
    expect(decodeFeedCursor(undefined)).toBe('0');
  });

  it('rejects anything it did not issue with a 400', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      '',
      'not base64!',
      Buffer.from('{"v":1,').toString('base64url'),
      b64(null),
      b64('12'),
      b64({ v: 2, s: '12' }),
      b64({ v: 1, s: 12 }),
      b64({ v: 1, s: '-1' }),
      b64({ v: 1, s: '012' }),
      b64({ v: 1, s: '1e3' }),
      b64({ v: 1, s: '9223372036854775808' }),
      'x'.repeat(201),
    ];
    for (const cursor of bad) {
      expect(() => decodeFeedCursor(cursor), cursor).toThrow(BadRequestException);
    }
  });
});
