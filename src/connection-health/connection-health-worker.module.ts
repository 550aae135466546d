import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConnectionHealthModule } from './connection-health.module.js';
import { HEALTH_QUEUE, HealthEvaluationProcessor } from './health-evaluation.processor.js';
import { HealthEvaluationService } from './health-evaluation.service.js';

/** The every-minute evaluation (resolve after quiet, subscription issues, auto-pause, gauges). */
@Module({
  imports: [BullModule.registerQueue({ name: HEALTH_QUEUE }), ConnectionHealthModule],
  providers: [HealthEvaluationService, HealthEvaluationProcessor],
  exports: [HealthEvaluationService],
})
export class ConnectionHealthWorkerModule {}
