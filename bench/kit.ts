import { readdirSync, readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import {
  DEMO_ACCOUNTS,
  GoogleCalendarFake,
  type SandboxAccount,
} from '../sandbox/google-calendar/index.js';
import { SANDBOX_SLACK_APP, SlackFake } from '../sandbox/slack/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../sandbox/trello/trello.fake.js';
import { Cluster } from '../test/harness/cluster.js';
import { eventually } from '../test/harness/ports.js';
import { ServiceProcess } from '../test/harness/service-process.js';

/** Sizes of one bench run: the full run (the README's targets), or `--quick` (proves it runs). */
export interface BenchSizes {
  quick: boolean;
  /** P1 / P4 calendar size, and the small size of P1m. */
  events: number;
  smallEvents: number;
  /** P2: autocannon connections per level, seconds per level and route. */
  concurrency: number[];
  levelSeconds: number;
  /** P3: paced deliveries per second, for this many seconds. */
  rate: number;
  rateSeconds: number;
  /** P4: events changed before the incremental sync. */
  changed: number;
  /** P5: paced rates tried in turn (deliveries per second), for this many seconds each. */
  ladder: number[];
  stepSeconds: number;
  /** P3 and P5: how long an acknowledged delivery may take to show before it counts as missing. */
  drainMs: number;
  /** P6: quiet Google Calendar connections. */
  quietConnections: number;
}

export function sizes(quick: boolean): BenchSizes {
  return quick
    ? {
        quick,
        events: 5_000,
        smallEvents: 1_000,
        concurrency: [8, 32],
        levelSeconds: 2,
        rate: 200,
        rateSeconds: 3,
        changed: 10,
        ladder: [100, 200, 300],
        stepSeconds: 3,
        drainMs: 10_000,
        quietConnections: 100,
      }
    : {
        quick,
        events: 100_000,
        smallEvents: 10_000,
        concurrency: [8, 32, 128],
        levelSeconds: 5,
        rate: 200,
        rateSeconds: 30,
        changed: 10,
        ladder: [200, 300, 400, 500, 600, 800, 1000],
        stepSeconds: 30,
        drainMs: 30_000,
        quietConnections: 1_000,
      };
}

/** The PDeck user who owns the bench's Trello and Slack connections (one feed for P3). */
export const BENCH_USER = 'bench-user';

/** The sandbox fakes and a cluster wired to them (own Postgres, own Redis, api + workers). */
export interface Rig {
  google: GoogleCalendarFake;
  trello: TrelloFake;
  slack: SlackFake;
  cluster: Cluster;
}

export interface RigOptions {
  workerNodeArgs?: string[];
  apiNodeArgs?: string[];
  entry?: string;
  /** Google accounts besides the demo ones, each with an empty primary calendar (P6). */
  googleAccounts?: SandboxAccount[];
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const { googleAccounts = [], ...clusterOptions } = options;
  const google = new GoogleCalendarFake({
    seed: false,
    accounts: [...DEMO_ACCOUNTS, ...googleAccounts],
  });
  // Webhooks of the Trello fake are never triggered by the bench (it signs its own deliveries);
  // rate limits off: the bench measures the service, not Trello's 100-per-10-s window.
  const trello = new TrelloFake({ rateLimits: false });
  // Events of the Slack fake are never triggered either (the bench signs its own); Tier 3
  // history limits (an internal app's) keep the backfill at connect to seconds.
  const slack = new SlackFake({ historyTier: 'tier3' });
  await Promise.all([google.start(), trello.start(), slack.start()]);
  const env = {
    PROVIDER_ORIGINS: JSON.stringify({
      ...google.origins(),
      ...trello.origins(),
      ...slack.origins(),
    }),
    // The cluster runs with NODE_ENV=production, which refuses PROVIDER_ORIGINS without this.
    ALLOW_PROVIDER_ORIGINS: 'true',
    GOOGLE_CALENDAR_CLIENT_ID: google.clients[0].clientId,
    GOOGLE_CALENDAR_CLIENT_SECRET: google.clients[0].clientSecret,
    TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
    TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
    SLACK_CLIENT_ID: SANDBOX_SLACK_APP.clientId,
    SLACK_CLIENT_SECRET: SANDBOX_SLACK_APP.clientSecret,
    SLACK_SIGNING_SECRET: SANDBOX_SLACK_APP.signingSecret,
    SLACK_APP_DISTRIBUTION: 'internal',
    // P6 connects hundreds of Google accounts from one address, far beyond the callback route's
    // per-address limit (60 a minute); that limit guards against abuse, not what P6 measures.
    OAUTH_CALLBACK_RATE_LIMIT: '0',
  };
  const cluster = new Cluster({ workers: 2, ...clusterOptions, env });
  await cluster.start();
  return { google, trello, slack, cluster };
}

export async function stopRig(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  await rig.cluster.stop();
  await Promise.allSettled([rig.google.stop(), rig.trello.stop(), rig.slack.stop()]);
}

export interface RunRow {
  id: string;
  status: string;
  mode: string;
  fetched: number;
  upserted: number;
  /** finished_at - started_at in ms, measured by Postgres' clock. */
  ms: number | null;
}

const RUN_SQL = `SELECT id, status, mode, fetched, upserted,
  (EXTRACT(EPOCH FROM finished_at - started_at) * 1000)::float8 AS ms FROM sync_runs`;

/** Waits until the sync run matching `where` (with `params`) has finished, and returns it. */
export async function finishedRun(
  cluster: Cluster,
  where: string,
  params: unknown[],
  timeoutMs: number,
): Promise<RunRow> {
  const row = await eventually(
    async () => {
      const [run] = await cluster.pg.query<RunRow>(`${RUN_SQL} WHERE ${where}`, params);
      if (run && run.status !== 'queued' && run.status !== 'running') return run;
      return undefined;
    },
    `sync run (${where}) to finish`,
    timeoutMs,
    50,
  );
  if (row.status !== 'succeeded') throw new Error(`sync run ${row.id} ended ${row.status}`);
  return row;
}

/** Peak resident set (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmHWM for pid ${pid}`);
  return kb / 1024;
}

/** The worker process that logged the start of sync run `runId`. */
export function workerOf(cluster: Cluster, runId: string): ServiceProcess {
  const worker = cluster.workers.find((w) =>
    w.lines.some((l) => l.includes('Sync run started') && l.includes(runId)),
  );
  if (!worker?.pid) throw new Error(`no worker logged the start of run ${runId}`);
  return worker;
}

/** Restarts every worker: fresh processes, so VmHWM is the peak of what comes next only. */
export async function restartWorkers(cluster: Cluster): Promise<void> {
  for (const w of cluster.workers) await w.stop();
  await Promise.all(cluster.workers.map((w) => w.start()));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds with 2 decimals, for logs. */
export const secs = (ms: number) => (ms / 1000).toFixed(2);

/** CPU time (user + system) a live process has used so far, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): utime is the 14th field overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU ms of a process and of its reaped children (cutime + cstime), e.g. a postmaster. */
function cpuWithChildrenMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
}

/** Pids whose command line contains `needle`, and all their live descendants. */
function processTree(needle: string): number[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const parentOf = new Map<number, number>();
  const roots: number[] = [];
  for (const d of all) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle))
        roots.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  const tree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

const sum = (pids: number[], f: (pid: number) => number) =>
  pids.reduce((total, pid) => {
    try {
      return total + f(pid);
    } catch {
      return total;
    }
  }, 0);

/**
 * CPU ms used so far by each part of the rig (API, each worker, Postgres, Redis, this bench
 * process): differences of two snapshots tell where the CPU of a phase went, whatever else the
 * machine runs meanwhile.
 */
export function cpuSnapshot(rig: Rig): Record<string, number> {
  const { cluster } = rig;
  const pg = processTree(`-p ${cluster.pg.port}`);
  const redis = processTree(`127.0.0.1:${cluster.redis.port}`);
  const usage = process.cpuUsage();
  return {
    api: cpuMs(cluster.api.pid!),
    ...Object.fromEntries(cluster.workers.map((w) => [w.name, cpuMs(w.pid!)])),
    postgres: sum(pg, (pid) => (pg.indexOf(pid) === 0 ? cpuWithChildrenMs(pid) : cpuMs(pid))),
    redis: sum(redis, cpuMs),
    bench: (usage.user + usage.system) / 1000,
  };
}

export function cpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
  per = 1,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, Number(((after[k] - before[k]) / per).toFixed(2))]),
  );
}

/** Runs `task` over `items` with at most `limit` at a time; results in the order of `items`. */
export async function inParallel<T, R>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Jobs of one of the service's BullMQ queues (`sync`, `webhooks`) still to be processed: waiting,
 * active, or delayed (a retry, a sync parked by a rate budget) but not a job scheduler's next
 * tick (every connection has one). Read through BullMQ with the service's default key prefix.
 */
export async function pendingJobs(rig: Rig, queue: string): Promise<number> {
  const { port } = rig.cluster.redis;
  const q = new Queue(queue, { connection: { host: '127.0.0.1', port }, prefix: '{pdeck}' });
  try {
    const counts = await q.getJobCounts('waiting', 'active', 'prioritized');
    const delayed = (await q.getJobs(['delayed'])).filter((job) => !job.repeatJobKey);
    return Object.values(counts).reduce((a, b) => a + b, delayed.length);
  } finally {
    await q.close();
  }
}
