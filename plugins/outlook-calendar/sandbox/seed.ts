import { Mailbox } from './mailbox.js';

export const ALICE = 'alice@contoso.example';
/** A personal account: Graph answers `mail: null` for it. */
export const BOB = 'bob@outlook.example';
export const CONTOSO_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
/** The tenant id Microsoft uses for personal accounts. */
export const CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

const DAY = 24 * 3600_000;
const at = (day: number, hour: number, base: number) =>
  new Date(Math.floor(base / DAY) * DAY + day * DAY + hour * 3600_000).toISOString();

/** Alice: a work mailbox with a default calendar and a holiday calendar; a spread of events. */
export function seedAlice(now: () => number): Mailbox {
  const mailbox = new Mailbox(
    ALICE,
    {
      id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
      displayName: 'Alice Wong',
      mail: ALICE,
      userPrincipalName: ALICE,
    },
    CONTOSO_TENANT,
    [
      { id: 'AAMkAGI2TGuLAAA=', name: 'Calendar', isDefaultCalendar: true, canEdit: true },
      {
        id: 'AAMkAGI2TGuLAAB=',
        name: 'United States holidays',
        isDefaultCalendar: false,
        canEdit: false,
      },
    ],
    now,
  );
  const t = now();
  const team = ['bob@contoso.example', 'carol@contoso.example'];
  mailbox.create({
    subject: 'Weekly planning',
    start: at(-7, 9, t),
    end: at(-7, 10, t),
    attendees: team,
  });
  mailbox.create({
    subject: 'Design review',
    start: at(1, 14, t),
    end: at(1, 15, t),
    attendees: team,
    bodyPreview: 'Agenda: the new onboarding flow',
  });
  mailbox.create({
    subject: '1:1 with Bob',
    start: at(2, 11, t),
    end: at(2, 11.5, t),
    attendees: [team[0]],
  });
  mailbox.create({
    subject: 'Offsite',
    start: at(10, 0, t),
    end: at(12, 0, t),
    isAllDay: true,
    showAs: 'oof',
  });
  mailbox.create({
    subject: 'Maybe: book club',
    start: at(3, 18, t),
    end: at(3, 19, t),
    showAs: 'tentative',
  });
  mailbox.create({
    subject: 'Cancelled sync',
    start: at(4, 9, t),
    end: at(4, 10, t),
    isCancelled: true,
    showAs: 'free',
  });
  mailbox.create({ subject: 'Roadmap', start: at(20, 16, t), end: at(20, 17, t), attendees: team });
  mailbox.create({ subject: 'Budget', start: at(30, 10, t), end: at(30, 11, t) });
  // Two occurrences of a weekly series, as calendarView returns them (the master is not listed).
  const master = 'AAMkAGseriesmasterstandup=';
  for (const day of [5, 12]) {
    mailbox.create({
      subject: 'Standup',
      start: at(day, 9, t),
      end: at(day, 9.25, t),
      type: 'occurrence',
      seriesMasterId: master,
    });
  }
  // Outside the synced window (90 days back): never listed by calendarView delta.
  mailbox.create({ subject: 'Long ago', start: at(-90, 9, t), end: at(-90, 10, t) });
  return mailbox;
}

/** Bob: a personal account (mail null) with two events. */
export function seedBob(now: () => number): Mailbox {
  const mailbox = new Mailbox(
    BOB,
    { id: '0a1b2c3d4e5f6a7b', displayName: 'Bob Smith', mail: null, userPrincipalName: BOB },
    CONSUMER_TENANT,
    [{ id: 'AQMkADAwATM0MDAAMS1iNQ==', name: 'Calendar', isDefaultCalendar: true, canEdit: true }],
    now,
  );
  const t = now();
  mailbox.create({ subject: 'Dentist', start: at(3, 8, t), end: at(3, 9, t) });
  mailbox.create({ subject: 'Football', start: at(6, 17, t), end: at(6, 19, t) });
  return mailbox;
}
