import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';
import {
  ISSUE_STATUSES,
  ISSUE_TYPES,
  type IssueStatus,
  type IssueType,
} from '../entities/connection-issue.entity.js';
import type { ConnectionIssue } from '../issues.service.js';

export class ConnectionIssueDto implements ConnectionIssue {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  connectionId: string;

  @ApiProperty({ example: 'user-42' })
  userId: string;

  @ApiProperty({ example: 'google-calendar' })
  provider: string;

  @ApiProperty({ enum: ISSUE_TYPES, example: 'sync' })
  type: IssueType;

  @ApiProperty({ enum: ISSUE_STATUSES, example: 'open' })
  status: IssueStatus;

  @ApiProperty({ description: 'A muted issue sends no notification to PDeck' })
  muted: boolean;

  @ApiProperty({ format: 'date-time' })
  firstSeenAt: string;

  @ApiProperty({ format: 'date-time' })
  lastSeenAt: string;

  @ApiProperty({ description: 'How often it was seen while open', example: 12 })
  count: number;

  @ApiProperty({ nullable: true, type: String, example: 'TEMPORARY: Service unavailable' })
  lastError: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'What the service did about it, e.g. that it paused the connection',
  })
  note: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  resolvedAt: string | null;
}

export class IssuePageDto {
  @ApiProperty({ type: [ConnectionIssueDto] })
  issues: ConnectionIssueDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as ?cursor= for the next page; null on the last one',
  })
  nextCursor: string | null;
}

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;

/** Paging shared by the issue lists. */
class IssuePageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed' })
  cursor?: string;
}

export class ConnectionIssuesQuery extends IssuePageQuery {
  @ApiPropertyOptional({ enum: ISSUE_STATUSES })
  @IsOptional()
  @IsIn(ISSUE_STATUSES)
  status?: IssueStatus;
}

export class ListIssuesQuery extends ConnectionIssuesQuery {
  @ApiPropertyOptional({ example: 'google-calendar' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9-]{1,64}$/, { message: 'provider must be an integration id' })
  provider?: string;
}

export class PauseConnectionDto {
  @ApiPropertyOptional({
    description: 'Why, in words (shown in the health reason and the issue note)',
    example: 'the customer asked us to stop syncing while they migrate',
    maxLength: 400,
  })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  @NoNulCharacter('reason')
  reason?: string;

  @ApiPropertyOptional({ description: 'Who asks (kept with the pause)', example: 'pdeck-support' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @NoNulCharacter('actor')
  actor?: string;
}

export class ResumeConnectionDto {
  @ApiPropertyOptional({ description: 'Who asks (kept with the resume)', example: 'pdeck-support' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @NoNulCharacter('actor')
  actor?: string;
}

export class PauseResultDto {
  @ApiProperty({ format: 'uuid' })
  connectionId: string;

  @ApiProperty()
  paused: boolean;

  @ApiProperty({ description: 'False when it already was in that state' })
  changed: boolean;
}
