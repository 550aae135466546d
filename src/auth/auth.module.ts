import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionHealthCoreModule } from '../connection-health/connection-health-core.module.js';
import { SettingsService } from './settings.service.js';
import { SiteChoiceService } from './site-choice.service.js';
import { ConfirmService } from './confirm.service.js';
import { ConnectController } from './connect.controller.js';
import { ConnectService } from './connect.service.js';
import { ConnectionStore } from './connection-store.service.js';
import { ConnectionsController } from './connections.controller.js';
import { DisconnectService } from './disconnect.service.js';
import { RefreshJournal } from './refresh-journal.js';
import { RefreshLeases } from './refresh-lease.js';
import { TokenRefresher } from './token-refresher.js';
import { TokenService } from './token.service.js';
import { Connection } from './entities/connection.entity.js';
import { OAuth1ConnectService } from './oauth/oauth1-connect.service.js';
import { OAuth2FlowService } from './oauth/oauth2-flow.service.js';
import { OAuth2StrategyFactory } from './oauth/oauth2-strategy.factory.js';
import { ReturnToSeal } from './oauth/return-to-seal.js';
import { OAuth1FlowService } from './oauth1/oauth1-flow.service.js';

/**
 * Connect flows, connections API, token lifecycle. Talks to integrations only through the
 * ProviderRegistry; tells Sync and Webhooks about connections through domain events.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Connection]), ConnectionHealthCoreModule],
  controllers: [ConnectionsController, ConnectController],
  providers: [
    ConnectionStore,
    RefreshLeases,
    RefreshJournal,
    TokenRefresher,
    TokenService,
    DisconnectService,
    // Connect flows
    ConnectService,
    ConfirmService,
    SiteChoiceService,
    SettingsService,
    OAuth2StrategyFactory,
    OAuth2FlowService,
    OAuth1FlowService,
    OAuth1ConnectService,
    ReturnToSeal,
  ],
  exports: [
    ConnectionStore,
    TokenService,
    DisconnectService,
    ConfirmService,
    // The Connect UI starts flows and chooses sites for its signed-in user.
    ConnectService,
    SiteChoiceService,
  ],
})
export class AuthModule {}
