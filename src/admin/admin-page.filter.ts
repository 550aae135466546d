import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Response, Request } from 'express';
import { QueueTimeoutError } from '../core/queue/queue-timeout.js';
import { applyAdminHeaders } from './admin.http.js';
import { messagePage } from './admin-views.js';

/** A page that needs a session was asked for without one: 303 to the sign-in form. */
export class SignInRequired extends HttpException {
  constructor() {
    super('Sign in first', 401);
  }
}

/** An HTTP error whose message is written for the operator reading it. */
export class AdminPageError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly title?: string,
  ) {
    super(message, status);
  }
}

const TITLES: Record<number, string> = {
  400: 'That request is not valid',
  401: 'Sign in first',
  403: 'This form has expired',
  404: 'Not found',
  409: 'That cannot be done right now',
  429: 'Too many attempts',
  503: 'Unavailable',
};

/** Console errors as short HTML pages; anything unexpected is a 503 without details. */
@Catch()
export class AdminPageFilter implements ExceptionFilter {
  private readonly logger = new Logger(AdminPageFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    applyAdminHeaders(res);
    if (exception instanceof SignInRequired && (req.method === 'GET' || req.method === 'HEAD')) {
      res.redirect(303, '/admin/sign-in');
      return;
    }
    let status = 503;
    let message = 'Something went wrong on our side. Try again in a moment.';
    if (exception instanceof QueueTimeoutError) {
      message = 'The queue (Redis) did not answer in time. Try again in a moment.';
      res.setHeader('retry-after', '5');
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse() as string | { message?: unknown };
      const raw = typeof body === 'string' ? body : body?.message;
      message =
        typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join('; ') : exception.message;
    } else {
      this.logger.error({
        path: req.path,
        reason: exception instanceof Error ? exception.message : String(exception),
        msg: 'Operator console request failed',
      });
    }
    const title =
      exception instanceof AdminPageError && exception.title
        ? exception.title
        : (TITLES[status] ?? 'Something went wrong');
    res.status(status).type('html').send(messagePage(title, message));
  }
}
