import { Writable } from 'node:stream';
import PinoPretty from 'pino-pretty';

/** A pino destination: stdout unless whoever embeds the service passed its own. */
export interface LogDestination {
  write(line: string): void;
}

/**
 * The readable form of a log line's message: Nest's context first, then the message; an access
 * line of pino-http (`request completed`) becomes `GET /v1/items 200 12 ms`. Redaction and the
 * serializers ran before this sees the line, so it formats only what the JSON form would hold.
 */
export function formatMessage(log: Record<string, unknown>, messageKey: string): string {
  const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
  const message = typeof log[messageKey] === 'string' ? (log[messageKey] as string) : '';
  const req = log.req as { method?: string; url?: string } | undefined;
  if (!req || typeof req !== 'object') return `${context}${message}`;
  const res = (log.res ?? {}) as { statusCode?: number; location?: string };
  const time = typeof log.responseTime === 'number' ? ` ${log.responseTime} ms` : '';
  const redirect = res.location ? ` -> ${res.location}` : '';
  const access = `${req.method ?? '?'} ${req.url ?? '?'} ${res.statusCode ?? '-'}${time}${redirect}`;
  // pino-http's own messages add nothing to the access line; anything else is kept after it.
  const extra = /^request (completed|errored)$/.test(message) ? '' : ` (${message})`;
  return `${context}${access}${extra}`;
}

/**
 * LOG_FORMAT=pretty: pino's lines through pino-pretty, in this thread and synchronously (a
 * transport's worker thread could lose the last lines when the process exits on a fatal
 * startup error). One line per entry: time, level, message, then any other fields as compact
 * JSON; an error's stack is printed below it. The request id, pid and hostname are left out
 * (the JSON form keeps them for correlation).
 */
export function prettyLogStream(destination?: LogDestination): NodeJS.WritableStream {
  // pino-pretty pipes into its destination, so a bare `{write}` gets a stream around it.
  const target = destination
    ? new Writable({
        write(chunk: Buffer, _encoding, done) {
          destination.write(String(chunk));
          done();
        },
      })
    : 1; // stdout's file descriptor
  return PinoPretty({
    destination: target,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,responseTime',
    singleLine: true,
    messageFormat: formatMessage,
  });
}
