import { ApiProperty } from '@nestjs/swagger';
import { ITEM_KINDS } from '../../../items/dto/items-feed-query.dto.js';
import type { ItemKind } from '@pdeck/integration-sdk';
import { CONFLICT_FIELDS, type ConflictField } from '../merge-policy.js';

/** Which member a merged value came from. */
export class MergedSourceDto {
  @ApiProperty({ format: 'uuid', example: '0b7d3a52-6f0e-4c61-9d0b-2f5f3c1f8a10' })
  itemId: string;

  @ApiProperty({ example: 'jira' })
  provider: string;
}

/** A text or time field taken from one member, with why that member. */
export class MergedTextFieldDto {
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The value (times as ISO 8601); null when every member left it empty.',
    example: 'In Progress',
  })
  value: string | null;

  @ApiProperty({
    type: MergedSourceDto,
    nullable: true,
    description: 'Null when no member has it.',
  })
  source: MergedSourceDto | null;

  @ApiProperty({
    description: 'Why this member, in words.',
    examples: [
      'system of record for tasks (jira)',
      "organizer's calendar",
      'most recent',
      'fallback: empty in jira; system of record for tasks (trello)',
      'conflict: most recent of 2 systems of record (jira)',
    ],
    example: 'system of record for tasks (jira)',
  })
  reason: string;
}

export class MergedBooleanFieldDto {
  @ApiProperty({ example: false })
  value: boolean;

  @ApiProperty({ type: MergedSourceDto, nullable: true })
  source: MergedSourceDto | null;

  @ApiProperty({ example: 'follows startsAt' })
  reason: string;
}

/** A field made of every member's values (assignees, labels). */
export class MergedListFieldDto {
  @ApiProperty({ type: [String], example: ['alice@example.com'] })
  value: string[];

  @ApiProperty({ type: [MergedSourceDto], description: 'Members that contributed values.' })
  sources: MergedSourceDto[];

  @ApiProperty({ example: 'union of every source' })
  reason: string;
}

export class MergedFieldsDto {
  @ApiProperty({ type: MergedTextFieldDto })
  title: MergedTextFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  body: MergedTextFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  status: MergedTextFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  startsAt: MergedTextFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  endsAt: MergedTextFieldDto;

  @ApiProperty({ type: MergedBooleanFieldDto, description: 'Comes with startsAt.' })
  allDay: MergedBooleanFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  dueAt: MergedTextFieldDto;

  @ApiProperty({ type: MergedTextFieldDto })
  url: MergedTextFieldDto;

  @ApiProperty({ type: MergedListFieldDto })
  assignees: MergedListFieldDto;

  @ApiProperty({ type: MergedListFieldDto })
  labels: MergedListFieldDto;
}

export class MergedConflictValueDto {
  @ApiProperty({ example: '2026-12-10T00:00:00.000Z' })
  value: string;

  @ApiProperty({ format: 'uuid' })
  itemId: string;

  @ApiProperty({ example: 'jira' })
  provider: string;
}

/** Members of equal top rank that disagree; the field still shows one value (the most recent). */
export class MergedConflictDto {
  @ApiProperty({ enum: CONFLICT_FIELDS, example: 'dueAt' })
  field: ConflictField;

  @ApiProperty({ type: [MergedConflictValueDto] })
  values: MergedConflictValueDto[];

  @ApiProperty({ example: '2 systems of record (jira) disagree; the most recent is shown' })
  reason: string;
}

/** One source of a merged entry. */
export class MergedMemberDto {
  @ApiProperty({ format: 'uuid' })
  itemId: string;

  @ApiProperty({ example: 'trello' })
  provider: string;

  @ApiProperty({ format: 'uuid' })
  connectionId: string;

  @ApiProperty({ enum: ITEM_KINDS, example: 'task' })
  kind: ItemKind;

  @ApiProperty({ example: '5f1c0e6a9b8d7c6b5a4f3e2d' })
  externalId: string;

  @ApiProperty({ nullable: true, type: String, example: 'https://trello.com/c/abc123' })
  url: string | null;
}

/**
 * One real-world thing across its sources. A live entry has every property; a tombstone (its
 * group dissolved or took another id) has only `id`, `deletedAt` and `changeSeq`.
 */
export class MergedEntryDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The smallest member item id; a single item is a one-member entry of its own id.',
  })
  id: string;

  @ApiProperty({
    enum: ITEM_KINDS,
    required: false,
    description: 'task if any member is a task, else event if any is an event, else message.',
  })
  kind?: ItemKind;

  @ApiProperty({ type: [MergedMemberDto], required: false, description: 'Sorted by itemId.' })
  members?: MergedMemberDto[];

  @ApiProperty({ type: MergedFieldsDto, required: false })
  fields?: MergedFieldsDto;

  @ApiProperty({ type: [MergedConflictDto], required: false })
  conflicts?: MergedConflictDto[];

  @ApiProperty({ description: 'Position in the merged feed (bigint as a string).', example: '812' })
  changeSeq: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Set on tombstones only (on live entries the property is absent).',
    required: false,
  })
  deletedAt?: string;
}

export class MergedEntriesPageDto {
  @ApiProperty({
    type: [MergedEntryDto],
    description: 'Changed entries in change order (their own sequence), tombstones included.',
  })
  entries: MergedEntryDto[];

  @ApiProperty({
    description:
      'Never null. Pass it as `cursor` with merged=true to continue (a position in the merged ' +
      "feed, not in the items feed: don't mix the two).",
    example: 'eyJ2IjoxLCJzIjoiODEyIn0',
  })
  nextCursor: string;

  @ApiProperty({ description: 'More changes are available right now.', example: false })
  hasMore: boolean;
}
