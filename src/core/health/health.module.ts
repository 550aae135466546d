import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { RedisHealthIndicator } from './redis.health.js';

/**
 * GET /health/live and GET /health/ready. Relies on the root TypeOrmModule (DataSource) and the
 * global REDIS provider. Terminus' own (multi-line) failure log is off: the controller logs each
 * failed check as one structured line instead.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
