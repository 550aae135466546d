import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'pdeck:isPublic';

/**
 * Marks a route as reachable without an internal bearer token. Only OAuth callbacks, provider
 * webhooks, health probes and the API docs are public; everything else, /metrics and /admin
 * included, needs a token in INTERNAL_API_TOKENS.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
