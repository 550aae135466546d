import { Controller, Get, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
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
  private readonly logger = new Logger('Health');

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

  /**
   * Readiness: Postgres and Redis answer. 503 otherwise. The answer is public, so it says only
   * which dependency is up or down; why (driver messages name hosts, users, databases) goes to
   * the log.
   */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness probe (Postgres and Redis)' })
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    try {
      return statusOnly(
        await this.health.check([
          // terminus 12 deprecates the `timeout` option in favour of withTimeout() on the attempt.
          () => this.postgres.pingCheck('postgres').withTimeout(HEALTH_CHECK_TIMEOUT_MS),
          () => this.redis.pingCheck('redis', HEALTH_CHECK_TIMEOUT_MS),
        ]),
      );
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      this.logger.error({ msg: 'readiness check failed', status: result.status, ...result.error });
      throw new ServiceUnavailableException(statusOnly(result));
    }
  }
}

/** The same result with each dependency's status only (no messages or other details). */
function statusOnly(result: HealthCheckResult): HealthCheckResult {
  const strip = <T extends Partial<HealthIndicatorResult> | undefined>(r: T): T =>
    (r &&
      Object.fromEntries(
        Object.entries(r).map(([key, value]) => [key, { status: value?.status }]),
      )) as T;
  return {
    status: result.status,
    info: strip(result.info),
    error: strip(result.error),
    details: strip(result.details),
  };
}
