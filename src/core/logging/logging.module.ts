import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { buildLoggerParams } from './logger-params.js';

/**
 * Structured logs (JSON lines, or readable ones with LOG_FORMAT=pretty) through nestjs-pino: one
 * pino logger for Nest's own messages, the per-request lines of pino-http (with a request id) and
 * any injected PinoLogger. APP_CONFIG comes from the global CoreModule.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: ResolvedAppConfig) => buildLoggerParams(config),
    }),
  ],
  exports: [LoggerModule],
})
export class LoggingModule {}
