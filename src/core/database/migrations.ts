import { Initial1764290000000 } from './migrations/1764290000000-initial.js';
import { DataModel1795827577874 } from './migrations/1795827577874-data-model.js';
import { SweepGuard1795829600079 } from './migrations/1795829600079-sweep-guard.js';
import { SyncRunResources1796400000000 } from './migrations/1796400000000-sync-run-resources.js';
import { WebhookRetention1796600000000 } from './migrations/1796600000000-webhook-retention.js';
import { EventOutbox1796700000000 } from './migrations/1796700000000-event-outbox.js';
import { ForeignKeys1796800000000 } from './migrations/1796800000000-foreign-keys.js';
import { ConnectionConfirmation1796900000000 } from './migrations/1796900000000-connection-confirmation.js';
import { ConnectionSite1797000000000 } from './migrations/1797000000000-connection-site.js';
import { ItemAuthor1797100000000 } from './migrations/1797100000000-item-author.js';
import { ConnectionIssues1797200000000 } from './migrations/1797200000000-connection-issues.js';
import { AdminAudit1797300000000 } from './migrations/1797300000000-admin-audit.js';
import { ItemLinks1797400000000 } from './migrations/1797400000000-item-links.js';

/** In order. Listed explicitly (no globs), like the entities in src/app.entities.ts. */
export const MIGRATIONS = [
  Initial1764290000000,
  DataModel1795827577874,
  SweepGuard1795829600079,
  SyncRunResources1796400000000,
  WebhookRetention1796600000000,
  EventOutbox1796700000000,
  ForeignKeys1796800000000,
  ConnectionConfirmation1796900000000,
  ConnectionSite1797000000000,
  ItemAuthor1797100000000,
  ConnectionIssues1797200000000,
  AdminAudit1797300000000,
  ItemLinks1797400000000,
];
