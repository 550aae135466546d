import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { messagePage } from './views.js';

const BACK = '<a href="/connect">Back to your integrations</a>';
const ASK_PDECK =
  'Go back to PDeck and open your integrations again: PDeck then makes a new link for you.';

/** Titles and advice by status; the exception's own message is shown when it is ours. */
const PAGES: Record<number, { title: string; advice: string; back?: boolean }> = {
  400: { title: 'That did not work', advice: 'Go back and try again.', back: true },
  401: {
    title: 'Your session has ended',
    advice: `This page needs a link from PDeck. ${ASK_PDECK}`,
  },
  403: {
    title: 'This form has expired',
    advice: 'Go back to your integrations and try again.',
    back: true,
  },
  404: { title: 'Not found', advice: 'It may have been removed already.', back: true },
  409: {
    title: 'That cannot be done right now',
    advice: 'Go back and check its status.',
    back: true,
  },
  410: { title: 'This link has expired', advice: ASK_PDECK },
};

/**
 * Errors of the Connect UI as short HTML pages (people see them, not programs), or JSON for
 * the page's own state route. Anything unexpected is a 503 without details.
 */
@Catch()
export class ConnectPageFilter implements ExceptionFilter {
  private readonly logger = new Logger(ConnectPageFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const known = exception instanceof HttpException;
    const status = known ? exception.getStatus() : 503;
    const body = known ? (exception.getResponse() as string | { message?: unknown }) : undefined;
    const raw = typeof body === 'string' ? body : body?.message;
    const message =
      exception instanceof PageError
        ? exception.message
        : typeof raw === 'string'
          ? raw
          : Array.isArray(raw)
            ? raw.join('; ')
            : 'Something went wrong on our side.';
    if (!known) {
      this.logger.error({
        path: req.path,
        reason: exception instanceof Error ? exception.message : String(exception),
        msg: 'Connect UI request failed',
      });
    }
    if (req.path === '/connect/state') {
      res.status(status).json({ statusCode: status, message });
      return;
    }
    const page = PAGES[status] ?? {
      title: 'Something went wrong',
      advice: 'Try again in a moment.',
      back: true,
    };
    const title = exception instanceof PageError && exception.title ? exception.title : page.title;
    res
      .status(status)
      .type('html')
      .send(
        messagePage(
          title,
          `${message} ${exception instanceof PageError ? '' : page.advice}`.trim(),
          page.back ? BACK : undefined,
        ),
      );
  }
}

/** An HTTP error whose message (and optionally title) is written for the person reading it. */
export class PageError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly title?: string,
  ) {
    super(message, status);
  }
}
