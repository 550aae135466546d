import { describe, expect, it } from 'vitest';
import { mapDeltaPage, MIN_VERSION, toItem, utc, versionOf } from './outlook-calendar.mapper.js';

const calendar = { id: 'AAMkAGI2TGuLAAA=', name: 'Calendar' };

describe('Outlook event mapping', () => {
  it('writes lastModifiedDateTime at a fixed width, so text order is time order', () => {
    expect(versionOf('2024-05-01T10:00:00.1Z')).toBe('2024-05-01T10:00:00.1000000Z');
    expect(versionOf('2024-05-01T10:00:00.2395052Z')).toBe('2024-05-01T10:00:00.2395052Z');
    expect(versionOf('2024-05-01T10:00:00Z')).toBe('2024-05-01T10:00:00.0000000Z');
    const sorted = ['2024-05-01T10:00:00.9Z', '2024-05-01T10:00:00.10Z', '2024-05-01T10:00:01Z']
      .map(versionOf)
      .sort();
    expect(sorted).toEqual([
      '2024-05-01T10:00:00.1000000Z',
      '2024-05-01T10:00:00.9000000Z',
      '2024-05-01T10:00:01.0000000Z',
    ]);
    expect(versionOf(undefined)).toBe(MIN_VERSION);
    expect(versionOf('yesterday')).toBe(MIN_VERSION);
  });

  it('reads UTC dateTimes (7 fractional digits, no offset) and refuses to guess other zones', () => {
    expect(utc({ dateTime: '2016-12-09T20:30:00.0000000', timeZone: 'UTC' })?.toISOString()).toBe(
      '2016-12-09T20:30:00.000Z',
    );
    expect(utc({ dateTime: '2016-12-09T20:30:00.0000000' })?.toISOString()).toBe(
      '2016-12-09T20:30:00.000Z',
    );
    expect(
      utc({ dateTime: '2016-12-09T20:30:00.0000000', timeZone: 'Pacific Standard Time' }),
    ).toBe(null);
    expect(utc(null)).toBe(null);
  });

  it('maps an event: title, preview, times, status, attendees, organizer, version, raw', () => {
    const event = {
      id: 'AAMkADNVxRAAA=',
      subject: 'Plan shopping list',
      bodyPreview: 'Milk, eggs',
      start: { dateTime: '2016-12-09T20:30:00.0000000', timeZone: 'UTC' },
      end: { dateTime: '2016-12-09T22:00:00.0000000', timeZone: 'UTC' },
      showAs: 'tentative',
      webLink: 'https://outlook.office365.com/owa/?itemid=x',
      organizer: { emailAddress: { name: 'Samantha Booth', address: 'samanthab@contoso.com' } },
      attendees: [{ emailAddress: { address: 'a@contoso.com' } }, { emailAddress: {} }, null],
      lastModifiedDateTime: '2016-12-09T19:00:00.1234567Z',
    };
    const item = toItem(event.id, event, calendar);
    expect(item).toMatchObject({
      kind: 'event',
      externalId: 'AAMkADNVxRAAA=',
      containerId: calendar.id,
      containerName: 'Calendar',
      title: 'Plan shopping list',
      body: 'Milk, eggs',
      status: 'tentative',
      allDay: false,
      url: 'https://outlook.office365.com/owa/?itemid=x',
      assignees: ['a@contoso.com'],
      author: 'Samantha Booth',
      externalVersion: '2016-12-09T19:00:00.1234567Z',
      raw: event,
    });
    expect(item.startsAt?.toISOString()).toBe('2016-12-09T20:30:00.000Z');
    expect(item.endsAt?.toISOString()).toBe('2016-12-09T22:00:00.000Z');
    expect(item.externalUpdatedAt?.toISOString()).toBe('2016-12-09T19:00:00.123Z');
    expect(toItem('x', { isCancelled: true, showAs: 'tentative' }, calendar).status).toBe(
      'cancelled',
    );
    expect(toItem('x', { isAllDay: true }, calendar)).toMatchObject({
      allDay: true,
      status: 'confirmed',
    });
  });

  it('turns @removed into deletions and keeps only the last copy of an id within a page', () => {
    const page = mapDeltaPage(
      [
        { id: 'a', subject: 'first', lastModifiedDateTime: '2024-01-01T00:00:00Z' },
        { id: 'b', '@removed': { reason: 'deleted' } },
        { id: 'a', subject: 'second', lastModifiedDateTime: '2024-01-02T00:00:00Z' },
        { id: 'c', subject: 'c' },
        { id: 'c', '@removed': { reason: 'changed' } },
        { subject: 'no id' },
      ],
      calendar,
    );
    expect(page.upserts.map((u) => [u.externalId, u.title])).toEqual([['a', 'second']]);
    expect(page.deletions).toEqual([
      { kind: 'event', externalId: 'b' },
      { kind: 'event', externalId: 'c' },
    ]);
  });
});
