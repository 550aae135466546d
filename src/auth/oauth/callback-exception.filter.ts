import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';

/**
 * The callback is opened by a person's browser, not by a program: a refused callback shows a
 * short page instead of raw JSON when the client prefers HTML. Programs (and tests) that ask
 * for JSON, or for anything, get Nest's usual `{statusCode, error, message}` body.
 */
@Catch(HttpException)
export class CallbackExceptionFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const status = exception.getStatus();
    const body = normalize(exception.getResponse(), status);
    res.setHeader('cache-control', 'no-store');
    if (req.accepts(['json', 'html']) === 'html') {
      res.status(status).type('html').send(page(body));
      return;
    }
    res.status(status).json(body);
  }
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

function normalize(response: string | object, status: number): ErrorBody {
  if (typeof response === 'string')
    return { statusCode: status, error: 'error', message: response };
  const r = response as Partial<Record<keyof ErrorBody, unknown>>;
  const message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? '');
  return { statusCode: status, error: String(r.error ?? 'error'), message };
}

function page(body: ErrorBody): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Connection failed</title></head>',
    '<body><h1>The connection could not be completed</h1>',
    `<p>${escapeHtml(body.message)}</p>`,
    `<p><small>${escapeHtml(body.error)} (HTTP ${body.statusCode})</small></p>`,
    '</body></html>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
