import type { Request } from 'express';

/** How one passport strategy run ended: exactly one of passport's five actions. */
export type StrategyOutcome =
  | { kind: 'success'; user: unknown; info: unknown }
  | { kind: 'fail'; challenge: unknown; status?: number }
  | { kind: 'redirect'; url: string; status: number }
  | { kind: 'error'; error: unknown }
  | { kind: 'pass' };

/** A passport strategy as the runner sees it. */
export interface Authenticating {
  authenticate(req: Request, options?: object): void;
}

interface StrategyActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  redirect(url: string, status?: number): void;
  error(err: unknown): void;
  pass(): void;
}

/**
 * What passport's authenticate middleware does for one strategy, without the global
 * `passport.use` registry (names would collide between app instances in one process) and
 * without touching `res`: the strategy runs on a fresh object inheriting from it, so concurrent
 * runs never share state, and the action it takes becomes the resolved outcome.
 */
export function runStrategy(
  strategy: Authenticating,
  req: Request,
  options: object = {},
): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: StrategyOutcome) => {
      // A strategy calling two actions is a bug in it; the first one is what passport would do.
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const actions: StrategyActions = {
      success: (user, info) => settle({ kind: 'success', user, info }),
      fail: (challenge, status) =>
        // passport's convention: fail(403) means a status without a challenge.
        typeof challenge === 'number'
          ? settle({ kind: 'fail', challenge: undefined, status: challenge })
          : settle({ kind: 'fail', challenge, status }),
      redirect: (url, status) => settle({ kind: 'redirect', url, status: status ?? 302 }),
      error: (error) => settle({ kind: 'error', error }),
      pass: () => settle({ kind: 'pass' }),
    };
    const run = Object.assign(Object.create(strategy) as Authenticating, actions);
    try {
      run.authenticate(req, options);
    } catch (error) {
      settle({ kind: 'error', error });
    }
  });
}
