import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';

const ROLES = ['identity', 'alias', 'reference'];
export const LINKS_DEFAULT_LIMIT = 100;
export const LINKS_MAX_LIMIT = 500;

/** The userId every link route takes: the same rules as GET /v1/items. */
class UserScoped {
  @ApiProperty({ description: 'PDeck user who owns the items.', example: 'user-42' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('userId')
  userId: string;
}

/** Query of GET /v1/item-links. */
export class ItemLinksQueryDto extends UserScoped {
  @ApiPropertyOptional({
    description: 'Only the links of this item.',
    format: 'uuid',
    example: '0b7d3a52-6f0e-4c61-9d0b-2f5f3c1f8a10',
  })
  @IsOptional()
  @IsUUID('all', { message: 'itemId must be a UUID' })
  itemId?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page; omit to start at the beginning.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is malformed' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: LINKS_MAX_LIMIT, default: LINKS_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LINKS_MAX_LIMIT)
  limit?: number;
}

/** Body of POST /v1/item-links: join two items by hand. */
export class CreateItemLinkDto extends UserScoped {
  @ApiProperty({ format: 'uuid', example: '0b7d3a52-6f0e-4c61-9d0b-2f5f3c1f8a10' })
  @IsUUID('all', { message: 'itemId must be a UUID' })
  itemId: string;

  @ApiProperty({ format: 'uuid', example: '5c1e8f2a-1d4b-4e0a-8a7c-3b9d2e6f4a11' })
  @IsUUID('all', { message: 'linkedItemId must be a UUID' })
  linkedItemId: string;
}

/** Query of DELETE /v1/item-links/:id. */
export class DeleteItemLinkQueryDto extends UserScoped {}

export class EvidenceMatchDto {
  @ApiProperty({
    description: 'The key both items share, `<namespace>:<value>`.',
    example: 'jira:acme.atlassian.net/ABC-123',
  })
  key: string;

  @ApiProperty({ enum: ROLES, description: 'Role of `itemId` for this key.', example: 'identity' })
  itemRole: string;

  @ApiProperty({
    enum: ROLES,
    description: 'Role of `linkedItemId` for this key.',
    example: 'reference',
  })
  linkedItemRole: string;

  @ApiProperty({ minimum: 0, maximum: 1, example: 0.9 })
  confidence: number;
}

export class LinkEvidenceDto {
  @ApiProperty({
    type: [EvidenceMatchDto],
    description: 'Every key that links the pair; empty for a pair joined by hand.',
  })
  matches: EvidenceMatchDto[];
}

export class ItemLinkDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The smaller item id of the pair.' })
  itemId: string;

  @ApiProperty({ format: 'uuid', description: 'The larger item id of the pair.' })
  linkedItemId: string;

  @ApiProperty({
    enum: ['detected', 'manual'],
    description: 'Found by the link detector, or joined by hand (then detection never removes it).',
  })
  origin: 'detected' | 'manual';

  @ApiProperty({ minimum: 0, maximum: 1, example: 0.9 })
  confidence: number;

  @ApiProperty({
    description: 'Why, in words.',
    example: 'One item mentions jira:acme.atlassian.net/ABC-123, which the other item is',
  })
  reason: string;

  @ApiProperty({ type: LinkEvidenceDto })
  evidence: LinkEvidenceDto;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class ItemLinksPageDto {
  @ApiProperty({ type: [ItemLinkDto], description: 'In id order.' })
  links: ItemLinkDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last one.',
  })
  nextCursor: string | null;
}
