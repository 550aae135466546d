import { cpSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { normalizedRows, runBaseline, type BaselineResult } from './baseline-upsert.js';
import {
  fullSync,
  incrementalSync,
  type FullSyncResult,
  type IncrementalResult,
} from './google-sync.js';
import { secs, sizes, startRig, stopRig, type Rig } from './kit.js';
import { machine, table, writeReport, type Figure } from './report.js';
import { connectSlack } from './slack-kit.js';
import { connectTrello } from './trello-kit.js';
import { webhookIngest, type IngestResult } from './webhook-ingest.js';
import { webhookLatency, type LatencyResult } from './webhook-latency.js';

/**
 * `npm run bench`: P1, P1m, P2, P3 and P4 (described in the README's Benchmarks section) against
 * one cluster of the built service (own Postgres, own Redis, one ROLE=api and two ROLE=worker
 * processes) and the sandbox fakes, each figure against a baseline of the same run. Flags:
 *   --quick            small sizes, a few seconds of load, targets not enforced (~35 seconds)
 *   --only=p1,p2,...   run some benchmarks (p4 needs p1)
 *   --worker-flags="--flag ..."   node flags for the workers (e.g. to try V8 heap settings)
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

/** Live cards the Trello board needs: every other P3 delivery deletes one. */
const cardPool = () => Math.ceil((size.rate * size.rateSeconds) / 2);

interface Results {
  small?: FullSyncResult;
  large?: FullSyncResult;
  baseline?: BaselineResult;
  incremental?: IncrementalResult;
  ingest?: IngestResult;
  latency?: LatencyResult;
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
  if (wants('p3')) {
    log(`Trello: connecting an account with a ${cardPool()}-card board`);
    const trello = await connectTrello(rig, cardPool());
    log(
      `P3: ${size.rate} deliveries/s for ${size.rateSeconds} s (Slack messages and Trello ` +
        'deletions in turn), latency to the feed',
    );
    out.latency = await webhookLatency(rig, slack, trello, size.rate, size.rateSeconds);
    const { slack: s, trello: t } = out.latency.byProvider;
    log(
      `  p50 / p99: Slack ${s.p50Ms.toFixed(0)} / ${s.p99Ms.toFixed(0)} ms, ` +
        `Trello ${t.p50Ms.toFixed(0)} / ${t.p99Ms.toFixed(0)} ms`,
    );
    log(`  ${JSON.stringify(out.latency)}`);
  }
}

function figures(out: Results): Figure[] {
  const enforce = (ok: boolean) => (quick ? null : ok);
  const list: Figure[] = [];
  const { small, large, baseline, incremental, ingest, latency } = out;
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
      target: '< 250 ms',
      pass: enforce(latency.p50Ms < 250),
    });
    list.push({
      id: 'P3 p99',
      what: 'webhook -> feed',
      value: latency.p99Ms,
      unit: 'ms',
      baseline: null,
      baselineWhat: null,
      ratio: null,
      target: '< 1,000 ms',
      pass: enforce(latency.p99Ms < 1000),
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
  return list;
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
  const workerFlags = args
    .find((a) => a.startsWith('--worker-flags='))
    ?.slice(15)
    .split(' ');
  const workerNodeArgs = profile === 'workers' ? cpuProf : workerFlags;
  const apiNodeArgs = profile === 'api' ? cpuProf : undefined;
  let rig: Rig | undefined;
  const out: Results = {};
  try {
    rig = await startRig({ workerNodeArgs, apiNodeArgs, entry });
    const versions = await machine(rig);
    if (wants('p1') || wants('p4')) await googleBenchmarks(rig, out);
    if (wants('p2') || wants('p3')) await webhookBenchmarks(rig, out);
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
