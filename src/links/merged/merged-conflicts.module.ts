import { Module } from '@nestjs/common';
import { EventsModule } from '../../events/events.module.js';
import { MergedConflictsHook } from './merged-conflicts.hook.js';
import { MergedViewModule } from './merged-view.module.js';

/**
 * Conflict tracking of the merged view: exports MergedConflictsHook, which the link detector's
 * module lists under MERGED_ENTRY_HOOKS so it runs in the transaction that rewrites entries.
 */
@Module({
  imports: [EventsModule, MergedViewModule],
  providers: [MergedConflictsHook],
  exports: [MergedConflictsHook],
})
export class MergedConflictsModule {}
