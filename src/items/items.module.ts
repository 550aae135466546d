import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MergedViewModule } from '../links/merged/merged-view.module.js';
import { ChangesFeedService } from './changes-feed.service.js';
import { ItemLink } from './entities/item-link.entity.js';
import { Item } from './entities/item.entity.js';
import { ItemsPurgeListener } from './items-purge.listener.js';
import { ItemsController } from './items.controller.js';
import { ItemsRepository } from './items.repository.js';

/**
 * Normalized items: the versioned page upsert (ItemsRepository, used by Sync and Webhooks inside
 * their own transactions) and the changes feed API (GET /v1/items).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Item, ItemLink]), MergedViewModule],
  controllers: [ItemsController],
  providers: [ItemsRepository, ChangesFeedService, ItemsPurgeListener],
  exports: [ItemsRepository],
})
export class ItemsModule {}
