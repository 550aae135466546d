import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import type { ResolvedAppConfig } from '../config/app-config.js';
import {
  serializeError,
  serializeRequest,
  serializeResponse,
  stripQueryString,
} from './log-serializers.js';
import { prettyLogStream } from './pretty-stream.js';
import { REDACT_CENSOR, REDACT_PATHS } from './redact-paths.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Narrow on purpose: a caller-chosen id lands in every log line, so no spaces, quotes or JSON. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** Keeps an upstream request id (proxy, PDeck) for correlation when it is safe, else a UUID. */
export function resolveRequestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/** Express rewrites req.url under a mounted middleware; originalUrl is the path the client sent. */
function requestPath(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  return stripQueryString(url) ?? '';
}

/** Liveness and readiness probes hit every few seconds; logging each would drown real traffic. */
export function isHealthProbe(req: IncomingMessage): boolean {
  return requestPath(req).startsWith('/health/');
}

/**
 * An acknowledged provider webhook: the hottest route (Slack alone may send thousands a minute),
 * counted by `webhook_deliveries_total` and `webhook_ack_seconds`; its access line is kept for
 * debug level, where pino does no serializing or redaction work at all at the default level.
 */
export function isAcknowledgedWebhook(req: IncomingMessage, res: ServerResponse): boolean {
  return (
    res.statusCode < 300 && req.method === 'POST' && requestPath(req).startsWith('/v1/webhooks/')
  );
}

/**
 * nestjs-pino parameters: JSON lines to stdout (or logDestination), or with logFormat `pretty`
 * (LOG_FORMAT, the development default) readable lines. Redaction and serializers are pino's,
 * before either format, so both print the same fields; unset logFormat means JSON.
 */
/**
 * Routes pino-http does not wrap: provider webhook deliveries, the hottest route. Wrapping
 * creates a per-request child logger, which serializes and redacts the request at once, logged
 * or not (a CPU profile of webhook ingest under load showed it as the largest cost of logging on
 * that route); also no access line and no request id header there. An acknowledged delivery was
 * logged at debug level only (metrics count them), and the receiver logs every refusal itself
 * ("webhook rejected"), so nothing at info or above is lost. Nest's Logger inside these requests
 * writes through the root logger. Health probes stay wrapped: a few a minute cost nothing.
 */
export const UNWRAPPED_ROUTES = [{ path: 'v1/webhooks/{*provider}', method: RequestMethod.POST }];

export function buildLoggerParams(
  config: Pick<ResolvedAppConfig, 'logLevel' | 'logDestination'> &
    Partial<Pick<ResolvedAppConfig, 'logFormat'>>,
): Params {
  return {
    exclude: UNWRAPPED_ROUTES,
    pinoHttp: {
      level: config.logLevel,
      // undefined = pino's default, stdout.
      stream:
        config.logFormat === 'pretty'
          ? prettyLogStream(config.logDestination)
          : config.logDestination,
      timestamp: stdTimeFunctions.isoTime,
      // Level names instead of numbers, so log pipelines can filter without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
      serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
        // Echoed so a caller can quote it when reporting a problem.
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      autoLogging: { ignore: isHealthProbe },
      customLogLevel: (req, res, err) => {
        if (err || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return isAcknowledgedWebhook(req, res) ? 'debug' : 'info';
      },
    },
  };
}
