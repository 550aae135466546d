import { describe, expect, it } from 'vitest';
import { GroupCommit, type Waiting } from './group-commit.js';

describe('GroupCommit', () => {
  it('commits a lone caller at once and groups those who arrive meanwhile', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const batcher = new GroupCommit<number, number>(10, async (group) => {
      groups.push(group.map((w) => w.input));
      if (groups.length === 1) await first;
      for (const w of group) w.resolve(w.input * 2);
    });
    const a = batcher.submit(1);
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    release();
    expect(await Promise.all([a, ...rest])).toEqual([2, 4, 6, 8]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('splits groups at the limit', async () => {
    const sizes: number[] = [];
    const batcher = new GroupCommit<number, void>(2, async (group) => {
      sizes.push(group.length);
      await new Promise((r) => setTimeout(r, 5));
      for (const w of group) w.resolve();
    });
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n)));
    expect(sizes).toEqual([1, 2, 2, 1]);
  });

  it('rejects the callers a failed commit left unanswered, and keeps going', async () => {
    let calls = 0;
    const batcher = new GroupCommit<string, string>(
      10,
      async (group: Waiting<string, string>[]) => {
        calls++;
        if (calls === 1) {
          group[0].resolve('kept');
          throw new Error('boom');
        }
        for (const w of group) w.resolve(`ok ${w.input}`);
      },
    );
    const first = batcher.submit('a');
    await expect(first).resolves.toBe('kept');
    const results = await Promise.allSettled([batcher.submit('b'), batcher.submit('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);

    let fail = true;
    const failing = new GroupCommit<string, string>(10, async (group) => {
      if (fail) throw new Error('database gone');
      for (const w of group) w.resolve(w.input);
    });
    await expect(failing.submit('x')).rejects.toThrow('database gone');
    fail = false;
    await expect(failing.submit('y')).resolves.toBe('y');
  });
});
