import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BackoffPoller } from '../core/runtime/backoff-poller.js';
import { LINK_MAX_RETRY_MS, LINK_POLL_MS, LINK_PROBE_USERS } from './links.constants.js';
import { USERS_WITH_WORK_SQL } from './links.sql.js';
import { UserLinkPass } from './user-link-pass.js';

/**
 * Finds users whose items changed since the detector last looked and runs a pass for each
 * (UserLinkPass: evidence, links, groups, merged entries, one transaction per batch). Worker
 * processes only; any number of them may run it: the per-user linker lock keeps one pass per
 * user at a time, and a worker that finds it held moves on to the next user.
 *
 * Not on the items write path: webhook ingest and syncs never wait for it. A changed item is
 * linked within about one poll interval (LINK_POLL_MS) plus the passes ahead of it. A pass on a
 * quiet database is one probe query.
 */
@Injectable()
export class LinkDetector implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Links');
  private readonly poller = new BackoffPoller({
    everyMs: LINK_POLL_MS,
    maxRetryMs: LINK_MAX_RETRY_MS,
    logger: this.logger,
    pausedMessage: 'link detector paused: links and merged entries wait',
    resumedMessage: 'link detector resumed',
    round: () => this.round(),
  });
  /** Users whose last pass failed, so a persistent failure is logged once, not every poll. */
  private readonly failing = new Set<string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pass: UserLinkPass,
  ) {}

  onApplicationBootstrap(): void {
    this.poller.start();
  }

  /** Before the pools close (onModuleDestroy runs ahead of every shutdown hook). */
  onModuleDestroy(): Promise<void> {
    return this.poller.stop();
  }

  /** Runs rounds until no user has work; for tests and for the poll loop. Never throws. */
  drain(): Promise<number> {
    return this.poller.drain();
  }

  /**
   * One batch for each user with work. True when some user made progress (so another round may
   * find more); false when there was nothing to do or every user's lock was held elsewhere.
   */
  private async round(): Promise<boolean> {
    const users = await this.dataSource.query<{ user_id: string }[]>(USERS_WITH_WORK_SQL, [
      LINK_PROBE_USERS,
    ]);
    let progressed = false;
    for (const { user_id: userId } of users) {
      if (this.poller.isStopped) break;
      try {
        const result = await this.pass.run(userId);
        if (!result.busy) progressed = true;
        if (this.failing.delete(userId)) {
          this.logger.log({ msg: 'links of a user are current again', userId });
        }
      } catch (error) {
        // A failure of one user's pass (its transaction rolled back) must not hold up others;
        // the pass is retried on the next round. If the database itself is gone the next probe
        // throws, and drain() backs off.
        if (!this.failing.has(userId)) {
          this.failing.add(userId);
          this.logger.warn({
            msg: 'link pass failed; retried on the next poll',
            userId,
            error: (error as Error).message,
          });
        }
      }
    }
    return progressed;
  }
}
