import type { DataSourceOptions } from 'typeorm';
import { AdminAuditEntry } from './admin/admin-audit.entity.js';
import { Connection } from './auth/entities/connection.entity.js';
import { ConnectionIssueEntity } from './connection-health/entities/connection-issue.entity.js';
import { ConnectionPause } from './connection-health/entities/connection-pause.entity.js';
import { buildDataSourceOptions } from './core/database/data-source-options.js';
import { EventOutboxEntry } from './events/entities/event-outbox.entity.js';
import { ItemLink } from './items/entities/item-link.entity.js';
import { Item } from './items/entities/item.entity.js';
import { ItemLinkEvidence } from './links/entities/item-link-evidence.entity.js';
import { ItemLinkRejection } from './links/entities/item-link-rejection.entity.js';
import { LinkCursor } from './links/entities/link-cursor.entity.js';
import { LinkRecheck } from './links/entities/link-recheck.entity.js';
import { MergedEntryMember } from './links/entities/merged-entry-member.entity.js';
import { MergedEntry } from './links/entities/merged-entry.entity.js';
import { SyncRun } from './sync/entities/sync-run.entity.js';
import { SyncState } from './sync/entities/sync-state.entity.js';
import { WebhookDelivery } from './webhooks/entities/webhook-delivery.entity.js';
import { WebhookSubscribeAttempt } from './webhooks/entities/webhook-subscribe-attempt.entity.js';
import { WebhookSubscription } from './webhooks/entities/webhook-subscription.entity.js';

/**
 * Every TypeORM entity of the service, assembled here beside the modules that own them (core
 * knows none of them). Listed explicitly, no globs, so the same list works from .ts under Vitest
 * and .js in dist/; the migration CLI checks the schema against exactly this list.
 */
export const ENTITIES = [
  Connection,
  SyncState,
  SyncRun,
  Item,
  ItemLink,
  ItemLinkEvidence,
  ItemLinkRejection,
  LinkCursor,
  LinkRecheck,
  MergedEntry,
  MergedEntryMember,
  WebhookDelivery,
  WebhookSubscription,
  WebhookSubscribeAttempt,
  EventOutboxEntry,
  ConnectionIssueEntity,
  ConnectionPause,
  AdminAuditEntry,
];

/** The service's connection options (CLI, tests, benchmarks): every entity, every migration. */
export function appDataSourceOptions(url: string, poolSize?: number): DataSourceOptions {
  return buildDataSourceOptions(url, ENTITIES, poolSize);
}
