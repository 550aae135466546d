import { Connection } from '../../auth/entities/connection.entity.js';
import { ItemLink } from '../../items/entities/item-link.entity.js';
import { Item } from '../../items/entities/item.entity.js';
import { SyncRun } from '../../sync/entities/sync-run.entity.js';
import { SyncState } from '../../sync/entities/sync-state.entity.js';
import { WebhookDelivery } from '../../webhooks/entities/webhook-delivery.entity.js';
import { WebhookSubscription } from '../../webhooks/entities/webhook-subscription.entity.js';

/** Listed explicitly (no globs) so the same list works from .ts under Vitest and .js in dist/. */
export const ENTITIES = [
  Connection,
  SyncState,
  SyncRun,
  Item,
  ItemLink,
  WebhookDelivery,
  WebhookSubscription,
];
