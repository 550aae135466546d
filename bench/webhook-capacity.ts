import { eventually } from '../test/harness/ports.js';
import { cpuDelta, cpuSnapshot, pendingJobs, secs, type Rig } from './kit.js';
import type { SlackTarget } from './slack-kit.js';
import type { TrelloTarget } from './trello-kit.js';
import { webhookLatency, type LatencyResult } from './webhook-latency.js';

/**
 * P5: the highest webhook rate the service sustains. P3's open-loop load (webhookLatency: signed
 * Slack messages and Trello deletions in turn, latency until visible in the feed) at each rate
 * of a rising ladder, until the first step that fails one of the limits below. Every step starts
 * on a drained pipeline: the ladder waits for the webhook queue to empty first (P3 may leave a
 * backlog), and a passing step saw every delivery in the feed.
 */
export const P5_LIMITS = {
  /** p99 of webhook -> feed, missing deliveries counted as infinite. */
  p99Ms: 1_000,
  /**
   * Share of the target rate the bench must have sent. Below it the load generator, on the same
   * cores, fell behind: the service was not offered the rate, so the step cannot pass.
   */
  sentShare: 0.9,
};

export interface RateStep extends LatencyResult {
  pass: boolean;
  /**
   * CPU milliseconds per acknowledged delivery, by process (api, workers, Postgres, Redis, and the
   * bench itself, which sends and polls on the same cores), from the step's start until every
   * delivery was seen.
   */
  cpuMsPerDelivery: Record<string, number>;
  /** Why the step failed (empty when it passed). */
  failed: string[];
}

export interface CapacityResult {
  seconds: number;
  /** The highest rate whose step passed (0 when none did). */
  highestRate: number;
  steps: RateStep[];
  /** After the last step: until the webhook queue was empty again (P6 needs a quiet rig). */
  backlogMs: number;
}

/**
 * Waits until no webhook job is left to process and the link detector has caught up with every
 * item change (a connect's thousands of new items keep it busy for seconds after the sync run
 * ended); returns how long that took. A measured phase starting before would measure that
 * one-off backlog too.
 */
export async function webhooksDrained(rig: Rig): Promise<number> {
  const started = Date.now();
  await eventually(
    async () => ((await pendingJobs(rig, 'webhooks')) === 0 ? true : undefined),
    'the webhook queue to empty',
    600_000,
    250,
  );
  await eventually(
    async () => {
      const [{ behind }] = await rig.cluster.pg.query<{ behind: number }>(LINKS_BEHIND_SQL);
      return behind === 0 ? true : undefined;
    },
    'the link detector to catch up',
    600_000,
    250,
  );
  return Date.now() - started;
}

/** Users whose items changed after the link detector's cursor. */
const LINKS_BEHIND_SQL = `SELECT count(*)::int AS behind FROM (
  SELECT user_id, max(change_seq) AS seq FROM items GROUP BY user_id) i
  LEFT JOIN link_cursors c USING (user_id) WHERE COALESCE(c.change_seq, 0) < i.seq`;

function failures(step: LatencyResult, drainMs: number): string[] {
  const failed: string[] = [];
  if (!(step.p99Ms < P5_LIMITS.p99Ms)) failed.push(`p99 >= ${P5_LIMITS.p99Ms} ms`);
  if (step.missing > 0)
    failed.push(`${step.missing} not visible ${drainMs / 1000} s after sending`);
  if (step.acknowledged < step.sent)
    failed.push(`${step.sent - step.acknowledged} not acknowledged`);
  if (step.achievedRate < step.rate * P5_LIMITS.sentShare)
    failed.push(`sent at ${step.achievedRate.toFixed(0)}/s`);
  return failed;
}

export async function webhookCapacity(
  rig: Rig,
  slack: SlackTarget,
  trello: TrelloTarget,
  rates: number[],
  seconds: number,
  drainMs: number,
): Promise<CapacityResult> {
  const steps: RateStep[] = [];
  await webhooksDrained(rig);
  for (const rate of rates) {
    const before = cpuSnapshot(rig);
    const result = await webhookLatency(rig, slack, trello, rate, seconds, drainMs);
    const cpuMsPerDelivery = cpuDelta(before, cpuSnapshot(rig), Math.max(1, result.acknowledged));
    const failed = failures(result, drainMs);
    steps.push({ ...result, pass: failed.length === 0, failed, cpuMsPerDelivery });
    const { slack: s, trello: t } = result.byProvider;
    console.log(
      `[P5] ${rate}/s: sent ${result.sent} (${s.sent} Slack, ${t.sent} Trello) at ` +
        `${result.achievedRate.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(0)} ms, p99 ` +
        `${result.p99Ms.toFixed(0)} ms, missing ${result.missing}, CPU ms per delivery ` +
        `${JSON.stringify(cpuMsPerDelivery)}: ` +
        (failed.length === 0 ? 'pass' : `FAIL (${failed.join(', ')})`),
    );
    if (failed.length > 0) break;
  }
  const backlogMs = await webhooksDrained(rig);
  if (backlogMs > 1_000) console.log(`[P5] webhook backlog processed in ${secs(backlogMs)} s`);
  const passed = steps.filter((s) => s.pass);
  return { seconds, highestRate: passed.at(-1)?.rate ?? 0, steps, backlogMs };
}
