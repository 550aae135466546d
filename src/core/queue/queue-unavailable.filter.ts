import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { QueueTimeoutError } from './queue-timeout.js';

/**
 * A request that needed the queue while Redis was away: 503 with Retry-After, so callers retry,
 * instead of a hung request or a 500. Whatever the request wrote to Postgres stays valid (job
 * ids and deduplication make the late add, or the caller's retry, harmless).
 */
@Catch(QueueTimeoutError)
export class QueueUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger('Queue');

  catch(error: QueueTimeoutError, host: ArgumentsHost): void {
    this.logger.warn({ msg: 'request refused: queue unavailable', error: error.message });
    host.switchToHttp().getResponse<Response>().status(503).setHeader('Retry-After', '5').json({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Queue unavailable; retry later',
    });
  }
}
