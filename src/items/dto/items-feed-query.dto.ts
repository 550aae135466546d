import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';
import type { ItemKind } from '../../providers/integration-provider.js';

export const ITEM_KINDS: readonly ItemKind[] = ['event', 'task', 'message'];
export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 1000;

/** Query of GET /v1/items. */
export class ItemsFeedQueryDto {
  @ApiProperty({
    description: 'PDeck user whose items to read (the feed is per user).',
    example: 'user-42',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('userId')
  userId: string;

  @ApiPropertyOptional({ description: 'Only items of this provider.', example: 'google-calendar' })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9-]{0,39}$/, { message: 'provider must be a provider id' })
  provider?: string;

  @ApiPropertyOptional({ description: 'Only items of this kind.', enum: ITEM_KINDS })
  @IsOptional()
  @IsIn(ITEM_KINDS)
  kind?: ItemKind;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous response; omit to read from the beginning.',
    example: 'eyJ2IjoxLCJzIjoiMTIzNDUifQ',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: FEED_MAX_LIMIT, default: FEED_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FEED_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({
    description: "Include each item's raw provider payload (large; off by default).",
    enum: ['true', 'false'],
    default: 'false',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  includeRaw?: 'true' | 'false';
}
