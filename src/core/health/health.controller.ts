import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../security/public.decorator.js';
import { RedisHealthIndicator } from './redis.health.js';

/** Each dependency gets this long before the readiness probe reports it down. */
export const HEALTH_CHECK_TIMEOUT_MS = 1500;

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /**
   * Liveness: the process serves HTTP. Deliberately checks no dependency, so an orchestrator
   * does not restart healthy instances while Postgres or Redis is briefly away.
   */
  @Get('live')
  @ApiOperation({ summary: 'Liveness probe' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and Redis answer. 503 with the failing details otherwise. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness probe (Postgres and Redis)' })
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      // terminus 12 deprecates the `timeout` option in favour of withTimeout() on the attempt.
      () => this.postgres.pingCheck('postgres').withTimeout(HEALTH_CHECK_TIMEOUT_MS),
      () => this.redis.pingCheck('redis', HEALTH_CHECK_TIMEOUT_MS),
    ]);
  }
}
