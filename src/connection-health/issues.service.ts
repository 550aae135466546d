import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import {
  decodeOpaqueCursor,
  encodeOpaqueCursor,
  UUID_TEXT,
} from '../core/validation/opaque-cursor.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import type { IssueStatus, IssueType } from './entities/connection-issue.entity.js';

/** An issue as the API and the operator console see it. */
export interface ConnectionIssue {
  id: string;
  connectionId: string;
  userId: string;
  provider: string;
  type: IssueType;
  status: IssueStatus;
  muted: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
  lastError: string | null;
  note: string | null;
  resolvedAt: string | null;
}

export interface IssueFilter {
  status?: IssueStatus;
  provider?: string;
  connectionId?: string;
  /** 1-200, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface IssuePage {
  issues: ConnectionIssue[];
  nextCursor: string | null;
}

/** What report() did: opened a new issue, or bumped the open one. */
export interface Reported {
  issue: ConnectionIssue;
  opened: boolean;
}

interface IssueRow {
  id: string;
  connection_id: string;
  user_id: string;
  provider: string;
  type: IssueType;
  status: IssueStatus;
  muted: boolean;
  first_seen_at: Date;
  last_seen_at: Date;
  count: number;
  last_error: string | null;
  note: string | null;
  resolved_at: Date | null;
}

const COLUMNS = `id, connection_id, user_id, provider, type, status, muted, first_seen_at, last_seen_at,
  count, last_error, note, resolved_at`;

const MAX_WORDS = 500;

function toIssue(r: IssueRow): ConnectionIssue {
  return {
    id: r.id,
    connectionId: r.connection_id,
    userId: r.user_id,
    provider: r.provider,
    type: r.type,
    status: r.status,
    muted: r.muted,
    firstSeenAt: r.first_seen_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    count: r.count,
    lastError: r.last_error,
    note: r.note,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
  };
}

/** Cursor: the last row's (first_seen_at, id), newest first; opaque to callers. */
function encodeCursor(r: IssueRow): string {
  return encodeOpaqueCursor({ at: r.first_seen_at.toISOString(), id: r.id });
}

function decodeCursor(cursor: string): [string, string] {
  const { at, id } = decodeOpaqueCursor(cursor) ?? {};
  if (
    typeof at !== 'string' ||
    Number.isNaN(Date.parse(at)) ||
    typeof id !== 'string' ||
    !UUID_TEXT.test(id)
  ) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'invalid_cursor',
      message: 'Malformed cursor',
    });
  }
  return [at, id];
}

/**
 * Connection issues: opened (or bumped) where a fact happens, resolved by the periodic
 * evaluation after a quiet period. Opening and resolving record their notification for PDeck in
 * the same transaction, so an issue never opens without its `connection.issue_opened` (unless
 * muted) and never notifies twice: the partial unique index allows one open row per type.
 */
@Injectable()
export class IssuesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifier: PdeckNotifier,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  /**
   * Opens the connection's issue of this type, or bumps the open one (count, last seen, last
   * error). `onOpened` runs in the same transaction when this call opened it and it is not muted
   * (sync.failed goes out that way). Null when the connection does not exist (any more).
   */
  async report(
    connectionId: string,
    type: IssueType,
    error: string,
    onOpened?: (manager: EntityManager, issue: ConnectionIssue) => Promise<void>,
  ): Promise<Reported | null> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<(IssueRow & { opened: boolean })[]>(
        `INSERT INTO connection_issues (id, connection_id, user_id, provider, type, status, first_seen_at, last_seen_at, count, last_error)
         SELECT $1, c.id, c.user_id, c.provider, $3, 'open', now(), now(), 1, $4 FROM connections c WHERE c.id = $2
         ON CONFLICT (connection_id, type) WHERE status = 'open' DO UPDATE
           SET count = connection_issues.count + 1, last_seen_at = now(), last_error = EXCLUDED.last_error
         RETURNING ${COLUMNS}, (xmax = 0) AS opened`,
        [randomUUID(), connectionId, type, error.slice(0, MAX_WORDS)],
      );
      if (!row) return null;
      const issue = toIssue(row);
      if (row.opened && !row.muted) {
        await this.notifier.record(manager, 'connection.issue_opened', {
          connectionId: issue.connectionId,
          userId: issue.userId,
          provider: issue.provider,
          issueId: issue.id,
          issueType: issue.type,
          reason: issue.lastError ?? undefined,
        });
        await onOpened?.(manager, issue);
      }
      return { issue, opened: row.opened };
    });
  }

  /** Resolves the open issue of this type, if any; notifies unless muted. */
  async resolve(connectionId: string, type: IssueType): Promise<ConnectionIssue | null> {
    return this.resolveWhere('connection_id = $1 AND type = $2', [connectionId, type]);
  }

  /** Resolves one open issue by id (the evaluation's quiet-period rule found it). */
  async resolveById(id: string): Promise<ConnectionIssue | null> {
    return this.resolveWhere('id = $1', [id]);
  }

  private async resolveWhere(where: string, params: unknown[]): Promise<ConnectionIssue | null> {
    return this.dataSource.transaction(async (manager) => {
      const [rows] = await manager.query<[IssueRow[], number]>(
        `UPDATE connection_issues SET status = 'resolved', resolved_at = now()
         WHERE ${where} AND status = 'open' RETURNING ${COLUMNS}`,
        params,
      );
      const row = rows[0];
      if (!row) return null;
      const issue = toIssue(row);
      if (!issue.muted) {
        await this.notifier.record(manager, 'connection.issue_resolved', {
          connectionId: issue.connectionId,
          userId: issue.userId,
          provider: issue.provider,
          issueId: issue.id,
          issueType: issue.type,
        });
      }
      return issue;
    });
  }

  /** Writes what the service did about the open issue of this type (e.g. paused the connection). */
  async note(connectionId: string, type: IssueType, note: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE connection_issues SET note = $3 WHERE connection_id = $1 AND type = $2 AND status = 'open'`,
      [connectionId, type, note.slice(0, MAX_WORDS)],
    );
  }

  async get(id: string): Promise<ConnectionIssue> {
    const [row] = await this.dataSource.query<IssueRow[]>(
      `SELECT ${COLUMNS} FROM connection_issues WHERE id = $1`,
      [id],
    );
    if (!row) throw new NotFoundException('No such issue');
    return toIssue(row);
  }

  /** Newest first (by first seen), paged with an opaque cursor. */
  async list(filter: IssueFilter = {}): Promise<IssuePage> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.provider) add('provider = ?', filter.provider);
    if (filter.connectionId) add('connection_id = ?::uuid', filter.connectionId);
    if (filter.cursor) {
      const [at, id] = decodeCursor(filter.cursor);
      params.push(at, id);
      where.push(
        `(first_seen_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(limit + 1);
    const rows = await this.dataSource.query<IssueRow[]>(
      `SELECT ${COLUMNS} FROM connection_issues ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY first_seen_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return {
      issues: page.map(toIssue),
      nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }

  /** A muted issue notifies nothing more (not even its resolution); 404 for an unknown id. */
  mute(id: string): Promise<ConnectionIssue> {
    return this.setMuted(id, true);
  }

  unmute(id: string): Promise<ConnectionIssue> {
    return this.setMuted(id, false);
  }

  private async setMuted(id: string, muted: boolean): Promise<ConnectionIssue> {
    const [rows] = await this.dataSource.query<[IssueRow[], number]>(
      `UPDATE connection_issues SET muted = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, muted],
    );
    if (!rows[0]) throw new NotFoundException('No such issue');
    return toIssue(rows[0]);
  }

  /**
   * Open issues whose quiet period passed: nothing reported them for ISSUE_RESOLVE_AFTER_MS and,
   * for `sync`, a run succeeded since the last failure at least that long ago; for `auth`, the
   * connection is active again. `webhook_subscription` also needs no failed subscribe attempt
   * left. Ids only; resolveById notifies each.
   */
  async quietIssues(now: Date): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT i.id FROM connection_issues i JOIN connections c ON c.id = i.connection_id
       WHERE i.status = 'open' AND CASE i.type
         WHEN 'auth' THEN c.status = 'active'
         WHEN 'sync' THEN (SELECT min(r.finished_at) FROM sync_runs r WHERE r.connection_id = i.connection_id
             AND r.status IN ('succeeded', 'partial') AND r.finished_at > i.last_seen_at) <= $1::timestamptz - make_interval(secs => $2 / 1000.0)
         WHEN 'webhook_subscription' THEN i.last_seen_at <= $1::timestamptz - make_interval(secs => $2 / 1000.0)
           AND NOT EXISTS (SELECT 1 FROM webhook_subscribe_attempts a WHERE a.connection_id = i.connection_id AND a.status = 'failed')
         ELSE i.last_seen_at <= $1::timestamptz - make_interval(secs => $2 / 1000.0) END
       LIMIT 1000`,
      [now.toISOString(), this.config.issueResolveAfterMs],
    );
    return rows.map((r) => r.id);
  }

  /** Open issue counts by provider and type (the connection_issues_open gauge). */
  async openCounts(): Promise<{ provider: string; type: string; n: number }[]> {
    return this.dataSource.query(
      `SELECT provider, type, count(*)::int AS n FROM connection_issues WHERE status = 'open' GROUP BY provider, type`,
    );
  }
}
