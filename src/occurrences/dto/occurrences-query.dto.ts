import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';

export const OCCURRENCES_DEFAULT_LIMIT = 100;
export const OCCURRENCES_MAX_LIMIT = 500;
/** Longest window one request may ask for. */
export const MAX_WINDOW_DAYS = 366;

/**
 * An ISO 8601 instant: a date, a time and a zone designator (Z or an offset). A date alone or a
 * time without a zone names no instant (which zone's midnight?), so both are refused.
 */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an instant accepted by INSTANT; NaN when a field is out of range. */
export function instantMs(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text);
  if (!m || !INSTANT.test(text)) return Number.NaN;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h) {
    return Number.NaN;
  }
  return Date.parse(text);
}

function IsInstant(field: string): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isInstant',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${field} must be an ISO 8601 instant with a zone, e.g. 2026-03-16T00:00:00Z`,
      },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !Number.isNaN(instantMs(value)),
      },
    });
}

/** `to` after `from`, and at most MAX_WINDOW_DAYS later (checked once both are instants). */
function IsWindowEnd(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isWindowEnd',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: (args: ValidationArguments) => {
          const { from, to } = bounds(args);
          return to <= from
            ? 'to must be later than from'
            : `to must be at most ${MAX_WINDOW_DAYS} days after from`;
        },
      },
      validator: {
        validate: (_value: unknown, args: ValidationArguments) => {
          const { from, to } = bounds(args);
          // A malformed from or to has its own message already.
          if (Number.isNaN(from) || Number.isNaN(to)) return true;
          return to > from && to - from <= MAX_WINDOW_DAYS * 86_400_000;
        },
      },
    });
}

function bounds(args: ValidationArguments): { from: number; to: number } {
  const o = args.object as { from?: unknown; to?: unknown };
  return {
    from: typeof o.from === 'string' ? instantMs(o.from) : Number.NaN,
    to: typeof o.to === 'string' ? instantMs(o.to) : Number.NaN,
  };
}

/** Query of GET /v1/occurrences. */
export class OccurrencesQueryDto {
  @ApiProperty({ description: 'PDeck user whose calendar to read.', example: 'user-42' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('userId')
  userId: string;

  @ApiProperty({
    description: 'Start of the window (inclusive), an ISO 8601 instant with a zone.',
    example: '2026-03-16T00:00:00Z',
  })
  @IsInstant('from')
  from: string;

  @ApiProperty({
    description: `End of the window (exclusive): after \`from\`, at most ${MAX_WINDOW_DAYS} days later.`,
    example: '2026-03-23T00:00:00Z',
  })
  @IsInstant('to')
  @IsWindowEnd()
  to: string;

  @ApiPropertyOptional({
    description: 'Only events of this connection (of this user).',
    format: 'uuid',
  })
  @IsOptional()
  @IsUUID('all', { message: 'connectionId must be a UUID' })
  connectionId?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page of the same query; omit for the first page.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: OCCURRENCES_MAX_LIMIT,
    default: OCCURRENCES_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(OCCURRENCES_MAX_LIMIT)
  limit?: number;
}
