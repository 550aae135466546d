import type { InjectionToken } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** The shared ioredis connection for the service's own keys (leases, state, budgets). */
export const REDIS: InjectionToken<Redis> = Symbol('REDIS');
