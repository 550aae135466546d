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
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';
import type { ItemKind } from '@pdeck/integration-sdk';

export const ITEM_KINDS: readonly ItemKind[] = ['event', 'task', 'message'];
export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 1000;

/** Item filters and raw payloads belong to the items feed: with merged=true they are refused. */
const ITEMS_ONLY = ['provider', 'kind', 'includeRaw'] as const;

/** The item-only parameters a query asks for (includeRaw=false asks for nothing). */
function itemsOnlyUsed(query: Record<string, unknown>): string[] {
  return ITEMS_ONLY.filter((name) =>
    name === 'includeRaw' ? query[name] === 'true' : query[name] !== undefined,
  );
}

@ValidatorConstraint({ name: 'mergedAlone' })
export class MergedAloneRule implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return value !== 'true' || itemsOnlyUsed(args.object as Record<string, unknown>).length === 0;
  }
  defaultMessage(args: ValidationArguments): string {
    const used = itemsOnlyUsed(args.object as Record<string, unknown>);
    return `merged=true cannot be combined with ${used.join(', ')} (merged entries span providers and kinds; read the items feed for filtered items or raw payloads)`;
  }
}

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

  @ApiPropertyOptional({
    description:
      'true: read the merged view instead (one entry per real-world thing across sources, ' +
      'docs/cross-source.md); the answer is then a MergedEntriesPageDto. Cannot be combined ' +
      'with provider, kind or includeRaw=true.',
    enum: ['true', 'false'],
    default: 'false',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  @Validate(MergedAloneRule)
  merged?: 'true' | 'false';
}
