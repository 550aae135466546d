import { Module } from '@nestjs/common';
import { ItemLinksController } from './item-links.controller.js';
import { ItemLinksService } from './item-links.service.js';
import { MergedConflictsHook } from './merged/merged-conflicts.hook.js';
import { MergedConflictsModule } from './merged/merged-conflicts.module.js';
import { MergedEntriesWriter } from './merged-entries.writer.js';
import { MERGED_ENTRY_HOOKS, type MergedEntryHook } from './merged-entry-hooks.js';

/**
 * Cross-source links (docs/cross-source.md): the link routes (list, join by hand, split) and the
 * writer of merged entries they share with the detector. The detector itself lives in
 * LinksWorkerModule (worker processes only). The hooks run in the transaction that rewrites
 * entries: the merged view's conflict tracking.
 */
@Module({
  imports: [MergedConflictsModule],
  controllers: [ItemLinksController],
  providers: [
    {
      provide: MERGED_ENTRY_HOOKS,
      inject: [MergedConflictsHook],
      useFactory: (conflicts: MergedConflictsHook): MergedEntryHook[] => [conflicts],
    },
    MergedEntriesWriter,
    ItemLinksService,
  ],
  exports: [MergedEntriesWriter],
})
export class LinksModule {}
