import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { ConnectionEventsListener } from './connection-events.listener.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  PDECK_EVENTS_BACKOFF_BASE_MS,
  PDECK_EVENTS_QUEUE,
} from './events.constants.js';
import { PdeckEventsProcessor } from './pdeck-events.processor.js';
import { PdeckNotifier } from './pdeck-notifier.service.js';

export interface EventsModuleOptions {
  /** Consume the queue (ROLE=worker or all). API-only processes just enqueue. */
  worker: boolean;
  /** Base delay of the retry backoff; tests shorten it. Default 10 s. */
  backoffBaseMs?: number;
}

/**
 * Notifications to PDeck. Needs the global CoreModule (APP_CONFIG, BullModule.forRoot,
 * EventEmitterModule).
 */
@Module({})
export class EventsModule {
  static forRoot(options: EventsModuleOptions): DynamicModule {
    const providers: Provider[] = [
      {
        provide: PDECK_EVENTS_BACKOFF_BASE_MS,
        useValue: options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      },
      PdeckNotifier,
      ConnectionEventsListener,
    ];
    if (options.worker) providers.push(PdeckEventsProcessor);
    return {
      module: EventsModule,
      imports: [BullModule.registerQueue({ name: PDECK_EVENTS_QUEUE })],
      providers,
      exports: [PdeckNotifier],
    };
  }
}
