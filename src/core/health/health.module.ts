import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { RedisHealthIndicator } from './redis.health.js';

/**
 * GET /health/live and GET /health/ready. Relies on the root TypeOrmModule (DataSource) and the
 * global REDIS provider; terminus logs failed checks through the app's logger.
 */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
