import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { runStrategy } from './run-strategy.js';

const req = { query: {}, body: {} } as unknown as Request;

/** A strategy that takes the action named in the options, like passport strategies do. */
class ScriptedStrategy {
  touched = 0;
  authenticate(
    this: ScriptedStrategy & Record<string, (...a: unknown[]) => void>,
    _r: Request,
    o: { act: string },
  ) {
    this.touched += 1;
    if (o.act === 'success') this.success({ id: 'u1' }, { state: 's' });
    if (o.act === 'fail') this.fail(403);
    if (o.act === 'redirect') this.redirect('https://auth.example/authorize');
    if (o.act === 'error') this.error(new Error('boom'));
    if (o.act === 'pass') this.pass();
    if (o.act === 'throw') throw new Error('thrown');
    if (o.act === 'twice') {
      this.fail({ reason: 'first' });
      this.success({ id: 'late' });
    }
  }
}

describe('runStrategy', () => {
  it('resolves with the action the strategy took', async () => {
    const s = new ScriptedStrategy();
    expect(await runStrategy(s, req, { act: 'success' })).toEqual({
      kind: 'success',
      user: { id: 'u1' },
      info: { state: 's' },
    });
    expect(await runStrategy(s, req, { act: 'fail' })).toEqual({
      kind: 'fail',
      challenge: undefined,
      status: 403,
    });
    expect(await runStrategy(s, req, { act: 'redirect' })).toEqual({
      kind: 'redirect',
      url: 'https://auth.example/authorize',
      status: 302,
    });
    expect(await runStrategy(s, req, { act: 'pass' })).toEqual({ kind: 'pass' });
  });

  it('turns errors, thrown or reported, into an error outcome', async () => {
    const s = new ScriptedStrategy();
    for (const act of ['error', 'throw']) {
      const outcome = await runStrategy(s, req, { act });
      expect(outcome.kind).toBe('error');
    }
  });

  it('keeps the first action and never writes to the shared strategy', async () => {
    const s = new ScriptedStrategy();
    const outcome = await runStrategy(s, req, { act: 'twice' });
    expect(outcome).toEqual({ kind: 'fail', challenge: { reason: 'first' }, status: undefined });
    // The run incremented its own copy of the counter, not the shared instance's.
    expect(s.touched).toBe(0);
    expect(Object.keys(s)).toEqual(['touched']);
  });
});
