import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Connection } from '../auth/entities/connection.entity.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { ItemsRepository } from '../items/items.repository.js';
import type { SyncPage, SyncResource } from '@pdeck/integration-sdk';
import type { SyncState } from './entities/sync-state.entity.js';
import { SyncRunsService, type PageCounts } from './sync-runs.service.js';
import { SyncStateService } from './sync-state.service.js';

export interface PageTarget {
  connection: Connection;
  runId: string;
  resource: SyncResource;
  state: SyncState;
  /** The page belongs to a full pass (items are marked seen; its last page sweeps). */
  fullPass: boolean;
}

/**
 * Commits one page of a sync: the items, the deletion sweep at the end of a full pass, the
 * resource's cursor and the run's counts, all in one transaction, so a crash anywhere resumes
 * from the last committed page with no gap and no duplicate. The page's items.changed event is
 * recorded in the same transaction (the outbox), and relayed to PDeck after the commit.
 */
@Injectable()
export class SyncPageCommitter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly items: ItemsRepository,
    private readonly states: SyncStateService,
    private readonly runs: SyncRunsService,
    private readonly notifier: PdeckNotifier,
    private readonly metrics: MetricsService,
  ) {}

  async commit(target: PageTarget, page: SyncPage): Promise<PageCounts> {
    const { connection, state, fullPass } = target;
    const lastOfPass = Boolean(fullPass && page.fullPassComplete);
    if (!lastOfPass && isEmpty(page)) {
      // Nothing to write but the cursor (most incremental syncs): one statement, no transaction.
      await this.states.commitCursor(this.dataSource.manager, state.id, page.cursor, false);
      return { fetched: 0, upserted: 0, deleted: 0, unchanged: 0 };
    }
    const result = await this.dataSource.transaction(async (manager) => {
      const written = await this.items.upsertPage(manager, {
        userId: connection.userId,
        connectionId: connection.id,
        provider: connection.provider,
        upserts: page.upserts,
        deletions: page.deletions,
        generation: fullPass ? state.generation : undefined,
      });
      if (fullPass && page.seen?.length) {
        await this.items.markSeen(manager, {
          connectionId: connection.id,
          generation: state.generation,
          items: page.seen,
        });
      }
      const swept =
        lastOfPass && !page.keepUnseen
          ? await this.items.sweep(manager, {
              connectionId: connection.id,
              userId: connection.userId,
              containerId: target.resource.id,
              generation: state.generation,
              passStartSeq: state.passStartSeq ?? undefined,
            })
          : { deleted: 0, minChangeSeq: null, maxChangeSeq: null };
      await this.states.commitCursor(manager, state.id, page.cursor, lastOfPass);
      const counts: PageCounts = {
        fetched: page.upserts.length + page.deletions.length + (page.seen?.length ?? 0),
        upserted: written.inserted + written.updated,
        deleted: written.deleted + swept.deleted,
        unchanged: written.unchanged + (fullPass ? (page.seen?.length ?? 0) : 0),
      };
      // A no-change page (most incremental syncs) has nothing to add.
      if (counts.fetched + counts.upserted + counts.deleted + counts.unchanged > 0) {
        await this.runs.addCounts(manager, target.runId, counts);
      }
      const from = written.minChangeSeq ?? swept.minChangeSeq;
      const to = swept.maxChangeSeq ?? written.maxChangeSeq;
      if (from !== null && to !== null) {
        await this.notifier.record(manager, 'items.changed', {
          connectionId: connection.id,
          userId: connection.userId,
          provider: connection.provider,
          upserted: counts.upserted,
          deleted: counts.deleted,
          fromChangeSeq: from,
          toChangeSeq: to,
        });
      }
      return { counts, created: written.inserted, updated: written.updated };
    });
    this.count(connection.provider, result.created, result.updated, result.counts);
    return result.counts;
  }

  /** After the commit only: sync_items_total never counts a rolled-back page. */
  private count(provider: string, created: number, updated: number, counts: PageCounts): void {
    const outcomes = { created, updated, deleted: counts.deleted, unchanged: counts.unchanged };
    for (const [outcome, n] of Object.entries(outcomes)) {
      if (n > 0) this.metrics.syncItems.inc({ provider, outcome }, n);
    }
  }
}

function isEmpty(page: SyncPage): boolean {
  return page.upserts.length === 0 && page.deletions.length === 0 && !page.seen?.length;
}
