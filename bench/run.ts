import { cpSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { normalizedRows, runBaseline, type BaselineResult } from './baseline-upsert.js';
import {
  fullSync,
  incrementalSync,
  type FullSyncResult,
  type IncrementalResult,
} from './google-sync.js';
import { eventually } from '../test/harness/ports.js';
import { secs, sizes, startRig, stopRig, type Rig } from './kit.js';
import {
  connectQuiet,
  noChangeSyncs,
  quietAccounts,
  type QuietSyncResult,
} from './quiet-connections.js';
import { machine, table, writeReport, type Figure } from './report.js';
import { connectSlack } from './slack-kit.js';
import { connectTrello } from './trello-kit.js';
import {
  P5_LIMITS,
  webhookCapacity,
  webhooksDrained,
  type CapacityResult,
} from './webhook-capacity.js';
import { webhookIngest, type IngestResult } from './webhook-ingest.js';
import { webhookLatency, type LatencyResult } from './webhook-latency.js';

/**
 * `npm run bench`: P1, P1m, P2, P3, P4, P5 and P6 (described in the README's Benchmarks section)
 * against one cluster of the built service (own Postgres, own Redis, one ROLE=api and two
 * ROLE=worker processes) and the sandbox fakes, each figure against a baseline of the same run
 * where there is one. Flags:
 *   --quick            small sizes, a few seconds of load, targets not enforced (~45 seconds)
 *   --only=p1,p2,...   run some benchmarks, p1 to p6 (p4 needs p1)
 *   --worker-flags="--flag ..."   node flags for the workers instead of those of `npm start`
 *                      (the api and, by default, the workers run with `npm start`'s flags)
 *   --profile[=api]    the workers (or the API process) run with --cpu-prof; profiles land in
 *                      bench/results/*.cpuprofile (summarize: npx tsx bench/profile-top.ts FILES)
 * Writes bench/results/latest.json (full run) or .data/bench-quick.json (--quick).
 */

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wants = (id: string) => !only || only.includes(id);
const profile =
  args.find((a) => a.startsWith('--profile'))?.split('=')[1] ??
  (args.includes('--profile') ? 'workers' : undefined);
const size = sizes(quick);
const log = (msg: string) => console.log(`[bench] ${msg}`);

/**
 * Most cards on the Trello bench board. The service reads a board in one response, capped at
 * 32 MiB (about 58k of these cards); 40k connect in a few seconds.
 */
const MAX_CARDS = 40_000;

/**
 * Live cards the Trello board needs: every other P3 and P5 delivery deletes one. The whole full
 * P5 ladder would need more than MAX_CARDS (enough up to its 600/s step); its deliveries are
 * Slack messages only once the board has none left (the P5 figure says from which step).
 */
function cardPool(): number {
  const p3 = wants('p3') ? size.rate * size.rateSeconds : 0;
  const p5 = wants('p5') ? size.ladder.reduce((sum, rate) => sum + rate * size.stepSeconds, 0) : 0;
  return Math.min(MAX_CARDS, Math.ceil((p3 + p5) / 2));
}

interface Results {
  small?: FullSyncResult;
  large?: FullSyncResult;
  baseline?: BaselineResult;
  incremental?: IncrementalResult;
  ingest?: IngestResult;
  latency?: LatencyResult;
  capacity?: CapacityResult;
  quiet?: QuietSyncResult & {
    connections: number;
    events: number;
    setupMs: number;
    retries: number;
    budgetWaitMs: number;
    stranded: number;
  };
}

async function googleBenchmarks(rig: Rig, out: Results): Promise<void> {
  log(`P1m: full sync of ${size.smallEvents} events on fresh workers`);
  out.small = await fullSync(rig, 'bob@example.com', 'bench-google-small', size.smallEvents);
  log(`  ${secs(out.small.run.ms!)} s, worker peak RSS ${out.small.peakRssMb.toFixed(1)} MB`);
  log(`P1: full sync of ${size.events} events on fresh workers`);
  out.large = await fullSync(rig, 'alice@example.com', 'bench-google', size.events);
  log(`  ${secs(out.large.run.ms!)} s, worker peak RSS ${out.large.peakRssMb.toFixed(1)} MB`);
  log('P1 baseline: raw unnest upsert of the same rows with pg');
  const client = new pg.Client({ connectionString: rig.cluster.pg.url });
  await client.connect();
  try {
    const rows = await normalizedRows(client, out.large.connectionId);
    out.baseline = await runBaseline(client, rows, out.large.connectionId);
  } finally {
    await client.end();
  }
  log(`  ${secs(out.baseline.ms)} s, ${out.baseline.rowsPerSecond.toFixed(0)} rows/s`);
  if (wants('p4')) {
    log(`P4: incremental sync after ${size.changed} changed events`);
    out.incremental = await incrementalSync(
      rig,
      'alice@example.com',
      out.large.connectionId,
      size.changed,
    );
    log(`  ${out.incremental.run.ms!.toFixed(0)} ms (wall ${out.incremental.wallMs} ms)`);
  }
}

async function webhookBenchmarks(rig: Rig, out: Results): Promise<void> {
  log("Slack: connecting alice's install of the sandbox app");
  const slack = await connectSlack(rig);
  if (wants('p2')) {
    log(
      `P2: webhook ingest (signed Slack message events) at ${size.concurrency.join(' / ')} ` +
        `connections, ${size.levelSeconds} s each`,
    );
    out.ingest = await webhookIngest(rig, slack, size.concurrency, size.levelSeconds);
    log(`  loss check: ${JSON.stringify(out.ingest.loss)}`);
  }
  if (!wants('p3') && !wants('p5')) return;
  log(`Trello: connecting an account with a ${cardPool()}-card board`);
  const trello = await connectTrello(rig, cardPool());
  if (wants('p3')) {
    // P2 acknowledges thousands of events faster than the workers apply them, and the Trello
    // board's connect and first scheduled syncs read every card, and the link detector then
    // looks at every new item: P3 starts once all of that is done, so it measures its own
    // deliveries.
    const backlogMs = await webhooksDrained(rig);
    if (backlogMs > 1_000) log(`  P2's webhook backlog processed in ${secs(backlogMs)} s`);
    await syncsIdle(rig);
    log(
      `P3: ${size.rate} deliveries/s for ${size.rateSeconds} s (Slack messages and Trello ` +
        'deletions in turn), latency to the feed',
    );
    out.latency = await webhookLatency(
      rig,
      slack,
      trello,
      size.rate,
      size.rateSeconds,
      size.drainMs,
    );
    const { slack: s, trello: t } = out.latency.byProvider;
    log(
      `  p50 / p99: Slack ${s.p50Ms.toFixed(0)} / ${s.p99Ms.toFixed(0)} ms, ` +
        `Trello ${t.p50Ms.toFixed(0)} / ${t.p99Ms.toFixed(0)} ms`,
    );
    log(`  ${JSON.stringify(out.latency)}`);
  }
  if (wants('p5')) {
    log(
      `P5: ${size.ladder.join(' / ')} deliveries/s, ${size.stepSeconds} s each, until p99 >= ` +
        `${P5_LIMITS.p99Ms} ms, a loss or a send rate short of the target`,
    );
    out.capacity = await webhookCapacity(
      rig,
      slack,
      trello,
      size.ladder,
      size.stepSeconds,
      size.drainMs,
    );
    log(`  highest passing rate ${out.capacity.highestRate}/s`);
  }
}

async function quietBenchmark(rig: Rig, out: Results): Promise<void> {
  log(`P6: connecting ${size.quietConnections} Google accounts (1-5 events each)`);
  const setup = await connectQuiet(rig, size.quietConnections);
  log(
    `  connected and fully synced in ${secs(setup.setupMs)} s (${setup.retries} consents ` +
      "tried again: connects spent the service's Google budget of 5,000 requests a minute)",
  );
  if (setup.budgetWaitMs > 1_000)
    log(`  waited ${secs(setup.budgetWaitMs)} s for room in the service's Google budget`);
  if (setup.strandedRunIds.length > 0)
    log(
      `  ${setup.strandedRunIds.length} runs stranded as queued (a follow-up nobody started); ` +
        'they run after the requested syncs',
    );
  log('P6: an incremental sync of every connection at once, nothing changed');
  const result = await noChangeSyncs(rig, setup);
  out.quiet = {
    connections: setup.connectionIds.length,
    events: setup.events,
    setupMs: setup.setupMs,
    retries: setup.retries,
    budgetWaitMs: setup.budgetWaitMs,
    stranded: setup.strandedRunIds.length,
    ...result,
  };
  log(`  ${result.syncsPerSecond.toFixed(0)} syncs/s`);
}

function figures(out: Results): Figure[] {
  const enforce = (ok: boolean) => (quick ? null : ok);
  const list: Figure[] = [];
  const { small, large, baseline, incremental, ingest, latency, capacity, quiet } = out;
  if (large && baseline) {
    const itemsPerSecond = (large.events / large.run.ms!) * 1000;
    const ratio = itemsPerSecond / baseline.rowsPerSecond;
    list.push({
      id: 'P1',
      what: `full sync, ${large.events} events`,
      value: itemsPerSecond,
      unit: 'items/s',
      baseline: baseline.rowsPerSecond,
      baselineWhat: 'raw unnest upsert, rows/s',
      ratio,
      target: 'ratio >= 0.60',
      pass: enforce(ratio >= 0.6),
    });
  }
  if (small && large) {
    const growth = large.peakRssMb - small.peakRssMb;
    list.push({
      id: 'P1m',
      what: `worker peak RSS, ${large.events} minus ${small.events} events`,
      value: growth,
      unit: 'MB',
      baseline: small.peakRssMb,
      baselineWhat: `peak RSS at ${small.events}, MB`,
      ratio: null,
      target: '<= 32 MB',
      pass: enforce(growth <= 32),
    });
  }
  if (ingest) {
    const ratio = ingest.peakWebhookRps / ingest.peakBaselineRps;
    list.push({
      id: 'P2',
      what: 'webhook ingest, peak over levels',
      value: ingest.peakWebhookRps,
      unit: 'req/s',
      baseline: ingest.peakBaselineRps,
      baselineWhat: 'GET /health/live, req/s',
      ratio,
      target: 'ratio >= 0.50',
      pass: enforce(ratio >= 0.5),
    });
    for (const level of ingest.levels) {
      list.push({
        id: `P2@${level.connections}`,
        what: `webhook ingest, ${level.connections} connections`,
        value: level.webhookRps,
        unit: 'req/s',
        baseline: level.baselineRps,
        baselineWhat: 'GET /health/live, req/s',
        ratio: level.ratio,
        target: '(context)',
        pass: null,
      });
    }
    const { lost, duplicated, acknowledged } = ingest.loss;
    list.push({
      id: 'P2 loss',
      what: `acknowledged Slack events lost or duplicated (of ${acknowledged})`,
      value: lost + duplicated,
      unit: 'deliveries',
      baseline: null,
      baselineWhat: null,
      ratio: null,
      target: '0',
      pass: lost + duplicated === 0,
    });
  }
  if (latency) {
    list.push({
      id: 'P3 p50',
      what: `webhook -> feed, ${latency.sent} Slack + Trello sent at ${latency.achievedRate.toFixed(0)}/s, ${latency.acknowledged} acknowledged`,
      value: latency.p50Ms,
      unit: 'ms',
      baseline: null,
      baselineWhat: null,
      ratio: null,
      target: '< 100 ms',
      pass: enforce(latency.p50Ms < 100),
    });
    list.push({
      id: 'P3 p99',
      what: 'webhook -> feed',
      value: latency.p99Ms,
      unit: 'ms',
      baseline: null,
      baselineWhat: null,
      ratio: null,
      target: '< 500 ms',
      pass: enforce(latency.p99Ms < 500),
    });
  }
  if (incremental && large) {
    const ratio = incremental.run.ms! / large.run.ms!;
    list.push({
      id: 'P4',
      what: `incremental sync, ${incremental.changed} changed of ${large.events}`,
      value: incremental.run.ms!,
      unit: 'ms',
      baseline: large.run.ms!,
      baselineWhat: 'P1 full sync, ms',
      ratio,
      target: '< 0.02',
      pass: enforce(ratio < 0.02),
    });
  }
  if (capacity) list.push(capacityFigure(capacity, enforce));
  if (quiet) {
    const { bench: _loadGenerator, ...service } = quiet.cpuMsPerSync;
    const cpu = Object.values(service).reduce((a, b) => a + b, 0);
    list.push({
      id: 'P6',
      what:
        `no-change incremental syncs of ${quiet.connections} Google connections requested at ` +
        `once (+${quiet.stranded} stranded follow-ups), ${cpu.toFixed(1)} CPU ms each ` +
        '(service, Postgres, Redis)',
      value: quiet.syncsPerSecond,
      unit: 'syncs/s',
      baseline: null,
      baselineWhat: null,
      ratio: null,
      target: '>= 200/s',
      pass: enforce(quiet.syncsPerSecond >= 200),
    });
  }
  return list;
}

/** P5: the highest passing rate, the ladder, and why it stopped. */
function capacityFigure(
  capacity: CapacityResult,
  enforce: (ok: boolean) => boolean | null,
): Figure {
  const { steps, highestRate, seconds } = capacity;
  const stopped = steps.find((s) => !s.pass);
  const slackOnly = steps.find((s) => s.byProvider.trello.sent < Math.floor(s.sent / 2));
  const what = [
    `highest webhook rate, steps of ${seconds} s at ${steps.map((s) => s.rate).join(' / ')}/s`,
    stopped ? `${stopped.rate}/s failed: ${stopped.failed.join(', ')}` : 'every step passed',
    ...(slackOnly ? [`Slack only once the Trello cards ran out (from ${slackOnly.rate}/s)`] : []),
  ];
  return {
    id: 'P5',
    what: what.join('; '),
    value: highestRate,
    unit: 'deliveries/s',
    baseline: null,
    baselineWhat: null,
    ratio: null,
    target: '>= 500',
    pass: enforce(highestRate >= 500),
  };
}

/**
 * The node flags of the production start path (`npm start`: `node <flags> dist/main.js`), so the
 * processes measured run like deployed ones (the heap limit decides P1m).
 */
function productionFlags(): string[] {
  const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const start = /^node\s+(.*?)\s*dist\/main\.js$/.exec(pkg.scripts.start ?? '');
  return start?.[1] ? start[1].split(/\s+/) : [];
}

/** Waits until no sync run of any connection is queued or running. */
async function syncsIdle(rig: Rig): Promise<void> {
  await eventually(
    async () => {
      const [{ n }] = await rig.cluster.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM sync_runs WHERE status IN ('queued', 'running')",
      );
      return n === 0 ? true : undefined;
    },
    'no sync run queued or running',
    300_000,
  );
}

const RESULTS_DIR = resolve('bench/results');
const QUICK_REPORT = resolve('.data/bench-quick.json');

/**
 * A rebuild of dist/ during a run (a build empties it first) would break the service processes,
 * so the run starts them from a copy: .data/bench/dist (modules still resolve from the
 * project's node_modules and package.json). Returns the copy's entry point.
 */
function snapshotBuild(): string {
  const home = resolve('.data/bench');
  rmSync(home, { recursive: true, force: true });
  cpSync(resolve('dist'), resolve(home, 'dist'), { recursive: true });
  return resolve(home, 'dist/main.js');
}

async function main(): Promise<void> {
  const started = Date.now();
  const entry = snapshotBuild();
  log(`${quick ? 'quick' : 'full'} run; starting Postgres, Redis, api and 2 workers`);
  const cpuProf = ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}`];
  const workerFlags =
    args
      .find((a) => a.startsWith('--worker-flags='))
      ?.slice(15)
      .split(' ') ?? productionFlags();
  const workerNodeArgs = profile === 'workers' ? [...productionFlags(), ...cpuProf] : workerFlags;
  const apiNodeArgs = [...productionFlags(), ...(profile === 'api' ? cpuProf : [])];
  log(
    `node flags: workers ${workerNodeArgs.join(' ') || '(none)'}, api ${apiNodeArgs.join(' ') || '(none)'}`,
  );
  let rig: Rig | undefined;
  const out: Results = {};
  try {
    const googleAccounts = wants('p6') ? quietAccounts(size.quietConnections) : [];
    rig = await startRig({ workerNodeArgs, apiNodeArgs, entry, googleAccounts });
    const versions = await machine(rig);
    if (wants('p1') || wants('p4')) await googleBenchmarks(rig, out);
    if (wants('p2') || wants('p3') || wants('p5')) await webhookBenchmarks(rig, out);
    if (wants('p6')) await quietBenchmark(rig, out);
    const list = figures(out);
    console.log(`\n${table(list)}\n`);
    console.log(
      `cores ${versions.cores} (${versions.cpu}), Node ${versions.node}, Postgres ${versions.postgres}, ` +
        `Redis ${versions.redis}; ${secs(Date.now() - started)} s`,
    );
    const path = quick ? QUICK_REPORT : resolve(RESULTS_DIR, 'latest.json');
    await writeReport(path, {
      mode: quick ? 'quick' : 'full',
      machine: versions,
      figures: list,
      details: out,
    });
    log(`wrote ${path}`);
    // Targets are reported, not enforced by the exit code; a lost delivery is a bug, though.
    if (out.ingest && out.ingest.loss.lost + out.ingest.loss.duplicated > 0) process.exitCode = 1;
  } finally {
    await stopRig(rig);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
