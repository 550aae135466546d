/**
 * Settles with `work`, or rejects with `onTimeout()` after `ms`. The work itself is not cancelled
 * (give it an AbortSignal for that): callers use this where waiting longer is worse than an
 * answer now, and make the work safe to finish unobserved.
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
