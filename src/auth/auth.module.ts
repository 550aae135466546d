import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionStore } from './connection-store.service.js';
import { Connection } from './entities/connection.entity.js';

/**
 * Connect flows, connections API, token lifecycle. Talks to integrations only through the
 * ProviderRegistry; tells Sync and Webhooks about connections through domain events.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Connection])],
  providers: [ConnectionStore],
  exports: [ConnectionStore],
})
export class AuthModule {}
