import { ApiProperty } from '@nestjs/swagger';

/** One occurrence of an event in the window. */
export class OccurrenceDto {
  @ApiProperty({
    format: 'uuid',
    description:
      'The item this occurrence comes from: the event, the series (master) for a generated ' +
      'occurrence, or the modified instance for an exception.',
  })
  itemId: string;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description:
      'The series (master item) for occurrences of a recurring event; null for single events.',
  })
  recurringItemId: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Weekly sync' })
  title: string | null;

  @ApiProperty({
    description:
      'An ISO 8601 instant (UTC) for timed events; a date (YYYY-MM-DD) for all-day ones.',
    example: '2026-03-30T07:00:00.000Z',
  })
  startsAt: string;

  @ApiProperty({
    description: 'Like startsAt; for all-day events the day after the last one (exclusive).',
    example: '2026-03-30T07:30:00.000Z',
  })
  endsAt: string;

  @ApiProperty({ example: false })
  allDay: boolean;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Where the series put this occurrence (differs from startsAt when the instance was moved); ' +
      'null for single events.',
    example: '2026-03-30T07:00:00.000Z',
  })
  originalStartsAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "The zone the event repeats in (the event's own, else its calendar's); null when unknown (UTC is used).",
    example: 'Europe/Berlin',
  })
  timeZone: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'confirmed' })
  status: string | null;

  @ApiProperty({ example: 'google-calendar' })
  provider: string;

  @ApiProperty({ format: 'uuid' })
  connectionId: string;

  @ApiProperty({ nullable: true, type: String, example: 'team@example.com' })
  containerId: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Team calendar' })
  containerName: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'https://www.google.com/calendar/event?eid=abc',
  })
  url: string | null;
}

/** A recurring event left out of the answer, and why. */
export class SkippedSeriesDto {
  @ApiProperty({ format: 'uuid', description: 'The series (master item).' })
  itemId: string;

  @ApiProperty({
    example: 'more than 5000 occurrences from the series start to the window end',
  })
  reason: string;
}

export class OccurrencesPageDto {
  @ApiProperty({ type: [OccurrenceDto], description: 'Ordered by start, then by itemId.' })
  occurrences: OccurrenceDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Pass as `cursor` (with the same userId, from, to, connectionId) for the next page; null on the last.',
  })
  nextCursor: string | null;

  @ApiProperty({ example: false })
  hasMore: boolean;

  @ApiProperty({
    type: [SkippedSeriesDto],
    description:
      'Recurring events that could not be expanded (a rule not understood, or more work than ' +
      'allowed): their occurrences are missing from every page of this window.',
  })
  skipped: SkippedSeriesDto[];
}
