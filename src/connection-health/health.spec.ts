import { describe, expect, it } from 'vitest';
import { deriveHealth, type HealthFacts } from './health.js';

const now = new Date('2026-12-01T12:00:00.000Z');
const minutesAgo = (m: number): Date => new Date(now.getTime() - m * 60_000);

/** An active connection created a day ago, syncing every 15 minutes, last success 5 minutes ago. */
function facts(over: Partial<HealthFacts> = {}): HealthFacts {
  return {
    status: 'active',
    createdAt: minutesAgo(24 * 60),
    statusSince: minutesAgo(24 * 60),
    pausedAt: null,
    pausedReason: null,
    intervalMinutes: 15,
    runActive: false,
    lastSuccessAt: minutesAgo(5),
    recentOutcomes: ['succeeded', 'succeeded', 'succeeded'],
    failingSince: null,
    lastError: null,
    ...over,
  };
}

describe('deriveHealth', () => {
  it('is healthy after a recent success, since that success', () => {
    expect(deriveHealth(facts(), now)).toEqual({
      state: 'healthy',
      reason: 'Synced on schedule.',
      since: minutesAgo(5).toISOString(),
    });
  });

  it('is syncing while a run is under way after a success', () => {
    expect(deriveHealth(facts({ runActive: true }), now).state).toBe('syncing');
  });

  it('never synced: healthy (waiting) at first, syncing during the first run, late then failing', () => {
    const fresh = { createdAt: minutesAgo(2), lastSuccessAt: null, recentOutcomes: [] };
    expect(deriveHealth(facts(fresh), now)).toMatchObject({
      state: 'healthy',
      reason: 'Waiting for the first sync.',
      since: null,
    });
    expect(deriveHealth(facts({ ...fresh, runActive: true }), now)).toMatchObject({
      state: 'syncing',
      reason: 'The first sync is under way.',
    });
    const late = deriveHealth(facts({ ...fresh, createdAt: minutesAgo(20) }), now);
    expect(late).toMatchObject({ state: 'late', since: minutesAgo(20).toISOString() });
    const failing = deriveHealth(facts({ ...fresh, createdAt: minutesAgo(31) }), now);
    expect(failing.state).toBe('failing');
    expect(failing.reason).toContain('since it was connected');
  });

  it('is late after more than one interval without success, failing after more than two', () => {
    expect(deriveHealth(facts({ lastSuccessAt: minutesAgo(15) }), now).state).toBe('healthy');
    const late = deriveHealth(facts({ lastSuccessAt: minutesAgo(16) }), now);
    expect(late).toMatchObject({ state: 'late', since: minutesAgo(16).toISOString() });
    expect(late.reason).toBe('No successful sync for 16 minutes (it syncs every 15 minutes).');
    expect(deriveHealth(facts({ lastSuccessAt: minutesAgo(30) }), now).state).toBe('late');
    expect(deriveHealth(facts({ lastSuccessAt: minutesAgo(31) }), now).state).toBe('failing');
  });

  it("uses the connection's schedule override (the interval it is given)", () => {
    // 40 minutes since the last success: failing at 15, late at 30, healthy at 60.
    const at = (intervalMinutes: number) =>
      deriveHealth(facts({ lastSuccessAt: minutesAgo(40), intervalMinutes }), now).state;
    expect(at(15)).toBe('failing');
    expect(at(30)).toBe('late');
    expect(at(60)).toBe('healthy');
  });

  it('is failing when the last three runs failed, since the first failure of the streak', () => {
    const h = deriveHealth(
      facts({
        lastSuccessAt: minutesAgo(10),
        recentOutcomes: ['failed', 'failed', 'failed'],
        failingSince: minutesAgo(9),
        lastError: 'TEMPORARY: Service unavailable',
      }),
      now,
    );
    expect(h).toEqual({
      state: 'failing',
      reason: 'The last 3 syncs failed. Last error: TEMPORARY: Service unavailable',
      since: minutesAgo(9).toISOString(),
    });
  });

  it('two failures in a row within the interval are not yet failing', () => {
    const h = deriveHealth(
      facts({ recentOutcomes: ['failed', 'failed', 'succeeded'], failingSince: minutesAgo(3) }),
      now,
    );
    expect(h.state).toBe('healthy');
    expect(h.reason).toBe('The last sync failed; the next one is scheduled.');
  });

  it('a run under way after a failure is not "syncing": the failure still counts', () => {
    const running = facts({
      runActive: true,
      recentOutcomes: ['failed', 'succeeded', 'succeeded'],
      failingSince: minutesAgo(4),
    });
    expect(deriveHealth(running, now)).toMatchObject({
      state: 'healthy',
      reason: 'The last sync failed; another is under way.',
    });
    expect(deriveHealth({ ...running, lastSuccessAt: minutesAgo(20) }, now).state).toBe('late');
    expect(
      deriveHealth({ ...running, recentOutcomes: ['failed', 'failed', 'failed'] }, now).state,
    ).toBe('failing');
  });

  it('partial runs count as successes', () => {
    expect(
      deriveHealth(facts({ recentOutcomes: ['partial', 'partial', 'partial'] }), now).state,
    ).toBe('healthy');
  });

  it('needs_reauth wins over the run history, since the grant died', () => {
    const h = deriveHealth(
      facts({
        status: 'needs_reauth',
        statusSince: minutesAgo(50),
        recentOutcomes: ['failed', 'failed', 'failed'],
      }),
      now,
    );
    expect(h).toMatchObject({ state: 'needs_reauth', since: minutesAgo(50).toISOString() });
  });

  it('paused wins over everything, with its reason', () => {
    const h = deriveHealth(
      facts({
        status: 'needs_reauth',
        pausedAt: minutesAgo(7),
        pausedReason: 'syncs have failed for a week',
      }),
      now,
    );
    expect(h).toEqual({
      state: 'paused',
      reason: 'Paused: syncs have failed for a week. Nothing syncs until it is resumed.',
      since: minutesAgo(7).toISOString(),
    });
  });

  it('a connection that is not active syncs nothing', () => {
    expect(deriveHealth(facts({ status: 'disconnected' }), now)).toMatchObject({
      state: 'paused',
      reason: 'The connection is disconnected: nothing syncs.',
    });
  });

  it('says long waits in hours and days', () => {
    expect(deriveHealth(facts({ lastSuccessAt: minutesAgo(180) }), now).reason).toContain(
      '3 hours',
    );
    expect(deriveHealth(facts({ lastSuccessAt: minutesAgo(3 * 24 * 60) }), now).reason).toContain(
      '3 days',
    );
  });
});
