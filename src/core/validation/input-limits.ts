import {
  type ArgumentMetadata,
  applyDecorators,
  BadRequestException,
  Injectable,
  ValidationPipe,
} from '@nestjs/common';
import { IsString, IsUrl, Matches, MaxLength } from 'class-validator';

/**
 * How deeply a request body or query may nest. The DTOs are flat (two levels at most), and
 * class-transformer walks a payload recursively before validation can refuse unknown fields:
 * a 1 MB body of 20 000 nested arrays overflowed the stack and answered 500.
 */
export const MAX_INPUT_DEPTH = 32;

/** True when `value` has objects or arrays nested more than `max` levels (iterative walk). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The app's ValidationPipe, refusing over-deep input with a 400 before transforming it. */
@Injectable()
export class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (nestedDeeperThan(value, MAX_INPUT_DEPTH)) {
      throw new BadRequestException(
        `The request ${metadata.type} nests deeper than ${MAX_INPUT_DEPTH} levels`,
      );
    }
    return super.transform(value, metadata);
  }
}

/**
 * Postgres text cannot hold U+0000: a NUL in a query parameter fails the statement, which
 * answered 500 (and logged the parameters). Free-text fields that reach SQL refuse it up front.
 */
export function NoNulCharacter(field: string): PropertyDecorator {
  // oxlint-disable-next-line no-control-regex -- matching NUL is the point
  return Matches(/^[^\u0000]*$/, { message: `${field} must not contain NUL characters` });
}

/**
 * The shape of a `returnTo` (authorize, connect sessions): an absolute http(s) URL of at most
 * 2,000 characters. require_tld is off: loopback and intranet hosts are legitimate in development
 * and tests; the RETURN_TO_ORIGINS allow-list is what actually guards the redirect.
 */
export function IsReturnToUrl(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MaxLength(2000),
    IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }),
  );
}
