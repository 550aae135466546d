import { Module } from '@nestjs/common';
import { ConnectionHealthService } from './connection-health.service.js';
import { PauseStore } from './pause.store.js';

/**
 * The parts of connection health that Sync and Auth read: the pause (the scheduler, the trigger
 * and the manual sync route respect it) and the derived health (the connection routes show it).
 * Built on Postgres and the global provider registry only, so SyncModule and AuthModule import
 * it without a cycle through ConnectionHealthModule, which depends on them.
 */
@Module({
  providers: [PauseStore, ConnectionHealthService],
  exports: [PauseStore, ConnectionHealthService],
})
export class ConnectionHealthCoreModule {}
