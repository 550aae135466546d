import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** Longest SQL text or error message kept in a log line. */
const MAX_TEXT = 2000;

/**
 * TypeORM's logger, routed through Nest's Logger (pino via nestjs-pino in the app, with its
 * redaction and serializers). TypeORM's own console loggers print a failing statement with its
 * bound parameters: tokens, user data and ciphertexts would land in the logs. This one logs the
 * SQL text, Postgres's error code and the names of the constraint, table and column, never the
 * parameters nor the error's `detail` (which echoes row values), and elides the value Postgres
 * quotes in messages such as `invalid input syntax for type uuid: "..."`.
 */
export class QueryLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('TypeORM');

  /** Statements are never logged: their parameters are request and user data. */
  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ msg: 'query failed', ...describeQueryError(error), query: clip(query) });
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ msg: 'slow query', ms: time, query: clip(query) });
  }

  /** Schema-builder chatter ("N migrations were found"): not logged, as before. */
  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(clip(message));
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = clip(typeof message === 'string' ? message : String(message));
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}

export interface QueryErrorSummary {
  /** Postgres SQLSTATE, e.g. 23505 or 57014 (statement timeout). */
  errorCode?: string;
  constraint?: string;
  table?: string;
  column?: string;
  error: string;
}

/** What may be logged of a driver error: its code, the names involved, its message without values. */
export function describeQueryError(error: string | Error): QueryErrorSummary {
  if (typeof error === 'string') return { error: elideValues(clip(error)) };
  const e = error as Error & Partial<Record<'code' | 'constraint' | 'table' | 'column', unknown>>;
  const summary: QueryErrorSummary = { error: elideValues(clip(e.message ?? String(e))) };
  for (const key of ['constraint', 'table', 'column'] as const) {
    if (typeof e[key] === 'string') summary[key] = e[key];
  }
  if (typeof e.code === 'string') summary.errorCode = e.code;
  return summary;
}

/**
 * Postgres quotes the offending input after a colon (`invalid input syntax for type integer:
 * "abc"`, `date/time field value out of range: "..."`); identifiers it names elsewhere in the
 * message (constraints, relations, columns) are kept.
 */
export function elideValues(message: string): string {
  return message.replace(/: ".*"$/s, ': "[value elided]"');
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
