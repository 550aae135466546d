import { Initial1764290000000 } from './migrations/1764290000000-initial.js';

/** In order. Listed explicitly (no globs): see entities.ts. */
export const MIGRATIONS = [Initial1764290000000];
