import { Global, Module } from '@nestjs/common';
import { CryptoService } from './crypto.service.js';
import { KeyPresencePublisher } from './key-presence.js';

/**
 * Global so every feature module can encrypt without importing this; APP_CONFIG and REDIS are
 * global too. The publisher announces this process's key ids for `npm run keys:rotate`.
 */
@Global()
@Module({ providers: [CryptoService, KeyPresencePublisher], exports: [CryptoService] })
export class CryptoModule {}
