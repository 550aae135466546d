import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class TriggerSyncDto {
  @ApiPropertyOptional({ enum: ['incremental', 'full'], default: 'incremental' })
  @IsOptional()
  @IsIn(['incremental', 'full'])
  mode?: 'incremental' | 'full';
}

export class TriggerSyncResponseDto {
  @ApiProperty({ format: 'uuid', example: '6f1c1c8e-2f7b-4c55-9a53-6f0f3c1f0a11' })
  syncRunId: string;

  @ApiProperty({
    description: 'True when the request joined a sync that was already queued or running.',
  })
  coalesced: boolean;
}

export class SyncScheduleDto {
  @ApiProperty({
    minimum: 1,
    maximum: 1440,
    example: 15,
    description: 'Minutes between scheduled incremental syncs.',
  })
  @IsInt()
  @Min(1)
  @Max(1440)
  intervalMinutes: number;
}

export class SyncRunResourceDto {
  @ApiProperty({ example: '5f1c0a...', description: 'Provider id of the calendar, board, ...' })
  resourceId: string;
  @ApiProperty({ example: 'Product roadmap' }) resourceName: string;
  @ApiProperty({ enum: ['succeeded', 'skipped', 'failed'] }) outcome: string;
  @ApiPropertyOptional({ example: 'NOT_FOUND', description: 'Set when not succeeded.' })
  errorCode?: string;
  @ApiPropertyOptional({
    example:
      'skipped: it no longer exists, or this account can no longer see it (trello boards.members: HTTP 404)',
  })
  errorMessage?: string;
  @ApiPropertyOptional({ example: 'boards.members', description: 'The provider call that failed.' })
  operation?: string;
}

export class SyncRunDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) connectionId: string;
  @ApiProperty({ enum: ['full', 'incremental'] }) mode: string;
  @ApiProperty({ example: 'manual', description: 'schedule, manual, webhook or connect' })
  trigger: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'partial', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt: Date | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt: Date | null;
  @ApiProperty() fetched: number;
  @ApiProperty() upserted: number;
  @ApiProperty() deleted: number;
  @ApiProperty() unchanged: number;
  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: "Failed runs: why. Partial runs: the first failing resource's code.",
  })
  errorCode: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'In words; partial runs list every resource not synced.',
  })
  errorMessage: string | null;
  @ApiProperty({
    type: [SyncRunResourceDto],
    description: 'How each resource fared, also across a pause for a rate limit.',
  })
  resources: SyncRunResourceDto[];
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
}
