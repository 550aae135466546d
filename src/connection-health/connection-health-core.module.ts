import { Global, Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { ConnectionHealthService } from './connection-health.service.js';
import { IssuesService } from './issues.service.js';
import { PauseStore } from './pause.store.js';

/**
 * The parts of connection health that other modules read: the pause (Sync's scheduler and
 * trigger respect it), the derived health (Auth's connection routes show it) and the issues.
 * Global and built on Postgres, the provider registry and the outbox only, so Sync and Auth can
 * use them without importing ConnectionHealthModule, which itself depends on them.
 */
@Global()
@Module({
  imports: [EventsModule],
  providers: [PauseStore, ConnectionHealthService, IssuesService],
  exports: [PauseStore, ConnectionHealthService, IssuesService],
})
export class ConnectionHealthCoreModule {}
