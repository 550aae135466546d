import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { ConnectionHealthCoreModule } from './connection-health-core.module.js';
import { ConnectionPauseService } from './connection-pause.service.js';
import { HealthEventsListener } from './health-events.listener.js';
import { IssuesController } from './issues.controller.js';
import { IssuesService } from './issues.service.js';

/**
 * Connection health, issues and pauses (docs/operations.md): the routes, pause and resume, and
 * the listeners that open issues where the facts happen. Exports ConnectionHealthService,
 * IssuesService and ConnectionPauseService for the operator console. The periodic evaluation
 * lives in ConnectionHealthWorkerModule (worker processes only).
 */
@Module({
  imports: [ConnectionHealthCoreModule, AuthModule, EventsModule, SyncModule],
  controllers: [IssuesController],
  providers: [IssuesService, ConnectionPauseService, HealthEventsListener],
  exports: [ConnectionHealthCoreModule, IssuesService, ConnectionPauseService],
})
export class ConnectionHealthModule {}
