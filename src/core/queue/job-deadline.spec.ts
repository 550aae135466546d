import { describe, expect, it } from 'vitest';
import { JobDeadlineError, withDeadline } from './job-deadline.js';

const never = () => new Promise<never>(() => {});

describe('withDeadline', () => {
  it('returns what the work returns before the deadline', async () => {
    await expect(withDeadline(10_000, 'job', async () => 'done')).resolves.toBe('done');
  });

  it('aborts the signal at the deadline; work that honours it fails with JobDeadlineError', async () => {
    let seen: AbortSignal | undefined;
    const error = await withDeadline(50, 'sync job 7', (signal) => {
      seen = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted fetch'))),
      );
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeadlineError);
    expect(error).toMatchObject({
      code: 'JOB_DEADLINE',
      message: 'sync job 7 exceeded its deadline of 50 ms',
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('gives up on work that ignores the signal once the grace period is over', async () => {
    const error = await withDeadline(20, 'webhook job 1', never, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeadlineError);
  });

  it('passes an earlier failure of the work through unchanged', async () => {
    const failure = new Error('database unavailable');
    await expect(
      withDeadline(10_000, 'job', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });
});
