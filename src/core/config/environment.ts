import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';

const trimmed = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** `kid:base64-of-32-bytes`, comma separated; the first is primary. */
@ValidatorConstraint({ name: 'encryptionKeys' })
export class EncryptionKeysRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const entries = value.split(',').map((s) => s.trim());
    const ids = new Set<string>();
    for (const entry of entries) {
      const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/.exec(entry);
      if (!match || ids.has(match[1])) return false;
      if (Buffer.from(match[2], 'base64').length !== 32) return false;
      ids.add(match[1]);
    }
    return entries.length > 0;
  }
  defaultMessage(): string {
    return 'ENCRYPTION_KEYS must be comma-separated "kid:base64-of-32-bytes" entries with unique key ids';
  }
}

@ValidatorConstraint({ name: 'providerOrigins' })
export class ProviderOriginsRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const parsed: unknown = JSON.parse(value);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
      return Object.entries(parsed).every(
        ([from, to]) => isOrigin(from) && typeof to === 'string' && isOrigin(to),
      );
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'PROVIDER_ORIGINS must be a JSON object mapping origins to origins, e.g. {"https://oauth2.googleapis.com":"http://127.0.0.1:9100"}';
  }
}

@ValidatorConstraint({ name: 'originList' })
export class OriginListRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && value.split(',').every((s) => isOrigin(s.trim()));
  }
  defaultMessage(): string {
    return 'RETURN_TO_ORIGINS must be a comma-separated list of origins such as https://app.pdeck.io';
  }
}

@ValidatorConstraint({ name: 'tokenList' })
export class TokenListRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'string' &&
      value.split(',').every((s) => /^[\x21-\x7e]{24,}$/.test(s.trim()))
    );
  }
  defaultMessage(): string {
    return 'INTERNAL_API_TOKENS must be comma-separated tokens of at least 24 printable characters';
  }
}

export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * The raw environment, as strings, validated. Every variable of the external contract in
 * ARCHITECTURE.md is here; the few extra ones are optional operational knobs.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Transform(trimmed)
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  PUBLIC_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// connection URL',
  })
  DATABASE_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL',
  })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Transform(trimmed)
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, {
    message: 'REDIS_KEY_PREFIX must be 1-40 characters of [A-Za-z0-9_-]',
  })
  REDIS_KEY_PREFIX = 'pdeck';

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['all', 'api', 'worker'])
  ROLE: 'all' | 'api' | 'worker' = 'all';

  @Transform(trimmed)
  @IsOptional()
  @Validate(TokenListRule)
  INTERNAL_API_TOKENS?: string;

  @Transform(trimmed)
  @IsOptional()
  @Validate(EncryptionKeysRule)
  ENCRYPTION_KEYS?: string;

  @Transform(trimmed)
  @IsOptional()
  @Validate(ProviderOriginsRule)
  PROVIDER_ORIGINS?: string;

  @Transform(trimmed)
  @IsOptional()
  @Validate(OriginListRule)
  RETURN_TO_ORIGINS?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  PDECK_EVENTS_URL?: string;

  @Transform(trimmed)
  @IsOptional()
  @MinLength(16)
  PDECK_EVENTS_SECRET?: string;

  @Transform(trimmed)
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(trimmed)
  @IsOptional()
  @IsString()
  DATA_DIR = '.data';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  SYNC_CONCURRENCY = 4;
}
