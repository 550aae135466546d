import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ItemKind } from '@pdeck/integration-sdk';
import { ITEM_KINDS } from './items-feed-query.dto.js';

/** Where the item lives at the provider: a calendar, a board, a Jira project, a channel. */
export class ItemContainerDto {
  @ApiProperty({ nullable: true, type: String, example: 'team@example.com' })
  id: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Team calendar' })
  name: string | null;
}

/** One normalized item as the changes feed delivers it; a tombstone has deletedAt set. */
export class ItemDto {
  @ApiProperty({ format: 'uuid', example: '0b7d3a52-6f0e-4c61-9d0b-2f5f3c1f8a10' })
  id: string;

  @ApiProperty({ format: 'uuid', example: '5c1e8f2a-1d4b-4e0a-8a7c-3b9d2e6f4a11' })
  connectionId: string;

  @ApiProperty({ example: 'google-calendar' })
  provider: string;

  @ApiProperty({ enum: ITEM_KINDS, example: 'event' })
  kind: ItemKind;

  @ApiProperty({
    description: 'Unique within the connection.',
    example: 'team@example.com/7kq1n0c9',
  })
  externalId: string;

  @ApiProperty({ type: ItemContainerDto, nullable: true })
  container: ItemContainerDto | null;

  @ApiProperty({ nullable: true, type: String, example: 'Sprint planning' })
  title: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Agenda: review the board' })
  body: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'confirmed' })
  status: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T09:00:00.000Z',
  })
  startsAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T10:00:00.000Z',
  })
  endsAt: string | null;

  @ApiProperty({ example: false })
  allDay: boolean;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: null })
  dueAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'https://calendar.google.com/calendar/event?eid=abc',
  })
  url: string | null;

  @ApiProperty({ type: [String], example: ['ana@example.com'] })
  assignees: string[];

  @ApiProperty({ type: [String], example: ['planning'] })
  labels: string[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: "Who the item is from, in words (a message's author); null when unknown.",
    example: 'Alice Archer',
  })
  author: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-11-27T16:20:11.000Z',
  })
  externalUpdatedAt: string | null;

  @ApiProperty({
    description: 'Provider version (fixed-width text).',
    example: '2026-11-27T16:20:11.000Z',
  })
  externalVersion: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Set on tombstones: the item was deleted at the provider.',
    example: null,
  })
  deletedAt: string | null;

  @ApiProperty({ description: 'Position in the feed (bigint as a string).', example: '12345' })
  changeSeq: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-27T16:20:12.345Z' })
  updatedAt: string;

  @ApiPropertyOptional({
    description: 'Provider payload; only with includeRaw=true.',
    type: Object,
  })
  raw?: unknown;
}

export class ItemsPageDto {
  @ApiProperty({
    type: [ItemDto],
    description: 'Changes in change_seq order, tombstones included.',
  })
  items: ItemDto[];

  @ApiProperty({
    description:
      'Never null. Pass it as `cursor` to continue; when `items` is empty it is the same ' +
      'position, so a poller keeps polling with it and receives only newer changes.',
    example: 'eyJ2IjoxLCJzIjoiMTIzNDYifQ',
  })
  nextCursor: string;

  @ApiProperty({
    description: 'More changes are available right now (read again at once).',
    example: false,
  })
  hasMore: boolean;
}
