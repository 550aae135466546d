import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response, Router } from 'express';
import type { AdminSessionStore } from './admin-session.store.js';
import { adminCookieOf } from './admin.http.js';

export const QUEUES_PATH = '/admin/queues';

/**
 * Bull Board's page template without the one remote resource it links (web fonts from a CDN):
 * the dashboard then loads nothing but its own bundled files, served from this service, which
 * its CSP (core/logging/http-security.ts) insists on anyway. Written once per process to a
 * private temporary folder, since the build copies no assets.
 */
function localOnlyViews(): string {
  const require = createRequire(import.meta.url);
  const uiDist = join(dirname(require.resolve('@bull-board/ui/package.json')), 'dist');
  const template = readFileSync(join(uiDist, 'index.ejs'), 'utf8').replace(
    /<link[^>]+fonts\.googleapis\.com[^>]*>\s*/g,
    '',
  );
  const dir = mkdtempSync(join(tmpdir(), 'pdeck-bull-board-'));
  writeFileSync(join(dir, 'index.ejs'), template);
  return dir;
}

/**
 * The queue dashboard (Bull Board) for every BullMQ queue of the service, behind the console's
 * session: without one, a page is redirected to the sign-in form (303) and an API call of the
 * dashboard answers 401. Its state-changing calls (retry, clean, ...) are fetch() requests
 * without our CSRF token, so besides the SameSite=Strict cookie they must come from this
 * origin (Sec-Fetch-Site / Origin), or they are refused (403).
 */
export function queueDashboard(queues: Queue[], sessions: AdminSessionStore): Router[] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'PDeck queues' } },
  });
  serverAdapter.setViewsPath(localOnlyViews());
  const gate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      res.setHeader('cache-control', 'no-store');
      const session = await sessions.session(adminCookieOf(req));
      if (!session) {
        if (req.method === 'GET' && !req.path.startsWith('/api/')) {
          res.redirect(303, '/admin/sign-in');
        } else {
          res.status(401).json({ statusCode: 401, message: 'Sign in to the operator console' });
        }
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req)) {
        res.status(403).json({ statusCode: 403, message: 'Cross-site request refused' });
        return;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
  return [gate as unknown as Router, serverAdapter.getRouter() as Router];
}

function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
