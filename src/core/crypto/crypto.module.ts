import { Global, Module } from '@nestjs/common';
import { CryptoService } from './crypto.service.js';

/** Global so every feature module can encrypt without importing this; APP_CONFIG is global too. */
@Global()
@Module({ providers: [CryptoService], exports: [CryptoService] })
export class CryptoModule {}
