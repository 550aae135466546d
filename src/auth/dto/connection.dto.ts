import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { ConnectionHealthDto } from '../../connection-health/dto/health.dto.js';
import type { ConnectionHealth } from '../../connection-health/health.js';
import { NoNulCharacter } from '../../core/validation/input-limits.js';
import { CONNECTION_STATUSES, type Connection } from '../entities/connection.entity.js';

/**
 * A connection as other services see it. Built field by field from the entity, so the encrypted
 * credentials, the token version and the settings can never leak into a response by accident.
 */
export class ConnectionDto {
  @ApiProperty({ format: 'uuid', example: '0b6f7f0e-5d1c-4d0b-9a53-2f3c1c8e6f11' })
  id: string;

  @ApiProperty({ description: 'PDeck user id', example: 'user-42' })
  userId: string;

  @ApiProperty({ example: 'google-calendar' })
  provider: string;

  @ApiProperty({ description: "The provider's id of the account", example: 'ada@example.com' })
  accountId: string;

  @ApiProperty({ nullable: true, type: String, example: 'ada@example.com' })
  accountLabel: string | null;

  @ApiProperty({ enum: CONNECTION_STATUSES, example: 'active' })
  status: string;

  @ApiProperty({ type: [String], example: ['https://www.googleapis.com/auth/calendar.readonly'] })
  scopes: string[];

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the current access token expires (null: does not expire or none stored)',
    example: '2026-11-28T10:00:00.000Z',
  })
  tokenExpiresAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Why the connection needs attention (an error code, never token material)',
    example: null,
  })
  lastError: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Why a confirmed connection is still `pending`: `site_required` means the account reaches ' +
      'several sites; list them with GET /v1/connections/{id}/sites and pick one with PUT .../site',
    example: null,
  })
  pendingReason: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The chosen site (Jira Cloud id) for providers with sites; null otherwise',
    example: null,
  })
  siteId: string | null;

  @ApiPropertyOptional({
    type: ConnectionHealthDto,
    description:
      'Derived from the sync history, the schedule and the pause (docs/operations.md); in the answers of GET /v1/connections and GET /v1/connections/{id}',
  })
  health?: ConnectionHealthDto;

  @ApiProperty({ format: 'date-time', example: '2026-11-20T08:30:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-28T09:00:00.000Z' })
  updatedAt: string;

  static from(c: Connection, health?: ConnectionHealth): ConnectionDto {
    return Object.assign(new ConnectionDto(), {
      id: c.id,
      userId: c.userId,
      provider: c.provider,
      accountId: c.accountId,
      accountLabel: c.accountLabel,
      status: c.status,
      scopes: c.scopes,
      tokenExpiresAt: c.tokenExpiresAt?.toISOString() ?? null,
      lastError: c.lastError,
      pendingReason: c.pendingReason,
      siteId: c.siteId,
      ...(health ? { health } : {}),
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    });
  }
}

export class ListConnectionsQuery {
  @ApiProperty({ description: 'PDeck user id whose connections to list', example: 'user-42' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('userId')
  userId: string;

  @ApiPropertyOptional({
    enum: CONNECTION_STATUSES,
    description: 'Only connections in this status. Without it, every status except `pending`.',
  })
  @IsOptional()
  @IsIn(CONNECTION_STATUSES)
  status?: (typeof CONNECTION_STATUSES)[number];
}

export class DisconnectQuery {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: "Also delete the connection's items from PDeck's copy",
  })
  @IsOptional()
  // Query values are strings; only the two literal spellings count, anything else fails validation.
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  purgeItems?: boolean;
}

export class SiteDto {
  @ApiProperty({
    description: 'The site id (Jira: the cloud id)',
    example: '1324a887-45db-1bf4-1e99-ef0ff456d421',
  })
  id: string;

  @ApiProperty({ example: 'acme' })
  name: string;

  @ApiProperty({ nullable: true, type: String, example: 'https://acme.atlassian.net' })
  url: string | null;

  @ApiProperty({ description: 'Whether this connection syncs this site' })
  chosen: boolean;
}

export class ChooseSiteDto {
  @ApiProperty({
    description: 'The id of one of the sites listed by GET /v1/connections/{id}/sites',
    example: '1324a887-45db-1bf4-1e99-ef0ff456d421',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('cloudId')
  cloudId: string;
}

export class ConnectionSettingsDto {
  @ApiProperty({
    description: "The connection's settings after the change",
    example: { jql: 'project = PD AND assignee = currentUser()' },
  })
  settings: Record<string, unknown>;
}
