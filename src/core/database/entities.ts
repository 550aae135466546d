import { Connection } from '../../auth/entities/connection.entity.js';

/** Listed explicitly (no globs) so the same list works from .ts under Vitest and .js in dist/. */
export const ENTITIES = [Connection];
