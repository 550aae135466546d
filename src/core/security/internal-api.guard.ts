import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Global guard: every route needs `Authorization: Bearer <one of INTERNAL_API_TOKENS>` unless it
 * is marked @Public(). Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the
 * content nor the length of a configured token leaks through timing.
 */
@Injectable()
export class InternalApiGuard implements CanActivate {
  private readonly tokens: TokenSet;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: ResolvedAppConfig,
  ) {
    this.tokens = new TokenSet(config.internalApiTokens);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic || context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (this.matches(bearerToken(request.headers.authorization))) return true;
    throw new UnauthorizedException('A valid internal API bearer token is required');
  }

  matches(token: string | undefined): boolean {
    return this.tokens.matches(token);
  }
}

/** INTERNAL_API_TOKENS as SHA-256 digests, compared in constant time (also used by /docs). */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  matches(token: string | undefined): boolean {
    if (!token) return false;
    const candidate = digest(token);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(candidate, known) || ok;
    return ok;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
