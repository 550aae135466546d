import autocannon from 'autocannon';
import { cpuMs, type Rig } from './kit.js';
import {
  lossCheck,
  messageDelivery,
  type LossCheck,
  type SlackDelivery,
  type SlackTarget,
} from './slack-kit.js';

/**
 * P2: the webhook route under closed-loop load (autocannon, N connections each sending the next
 * request as soon as the last is answered) against the bare liveness route of the same API
 * process, level by level, in the same run.
 *
 * Every webhook request is a distinct, correctly signed Slack `event_callback`: a new `message`
 * (fresh ts and event_id) in a channel the connected workspace syncs. The service verifies it,
 * stores it in webhook_deliveries under its event_id, enqueues it, answers 200; a worker then
 * upserts the message's item. So the loss check afterwards can demand that every acknowledged
 * event was stored once and produced exactly one item.
 *
 * Baseline caveat: `GET /health/live` returns a constant and, unlike every other route, is
 * excluded from the per-request access log (pino-http autoLogging ignores health probes), so it
 * is a bare route (express + Nest routing + guards + helmet), slightly lighter than an ordinary
 * route without a body.
 */

export interface LevelResult {
  connections: number;
  baselineRps: number;
  webhookRps: number;
  ratio: number;
  webhookP50Ms: number;
  webhookP99Ms: number;
  non2xx: number;
  /** CPU ms the API process spent per answered request (noise-robust cost per request). */
  baselineApiCpuMsPerReq: number;
  webhookApiCpuMsPerReq: number;
}

export interface IngestResult {
  levels: LevelResult[];
  /** Best webhook req/s over the levels vs best bare req/s over the levels. */
  peakWebhookRps: number;
  peakBaselineRps: number;
  loss: LossCheck;
}

interface EventContext {
  delivery?: SlackDelivery;
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    // No progress bar or table on stdout: the bench prints its own table.
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false });
  });
}

/** Closed-loop load on GET /health/live; req/s = 2xx answers per second. */
async function bare(
  rig: Rig,
  connections: number,
  seconds: number,
): Promise<{ rps: number; cpuPerReq: number }> {
  const cpu = cpuMs(rig.cluster.api.pid!);
  const result = await run({
    url: `${rig.cluster.baseUrl}/health/live`,
    connections,
    duration: seconds,
  });
  const used = cpuMs(rig.cluster.api.pid!) - cpu;
  return { rps: result['2xx'] / result.duration, cpuPerReq: used / result['2xx'] };
}

/** Closed-loop load of signed events. Counts only 2xx answers (their events go to the loss check). */
async function webhooks(
  rig: Rig,
  target: SlackTarget,
  connections: number,
  seconds: number,
  acknowledged: SlackDelivery[],
): Promise<{ rps: number; p50: number; p99: number; non2xx: number; cpuPerReq: number }> {
  const cpu = cpuMs(rig.cluster.api.pid!);
  let acked = 0;
  let rejected = 0;
  const path = new URL(target.url).pathname;
  const result = await run({
    url: target.url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request, context) => {
          const delivery = messageDelivery(target);
          (context as EventContext).delivery = delivery;
          return {
            ...request,
            method: 'POST',
            path,
            headers: delivery.headers,
            body: delivery.body,
          };
        },
        onResponse: (status, _body, context) => {
          const delivery = (context as EventContext).delivery!;
          if (status >= 200 && status < 300) {
            acked += 1;
            acknowledged.push(delivery);
          } else rejected += 1;
        },
      },
    ],
  });
  const used = cpuMs(rig.cluster.api.pid!) - cpu;
  return {
    cpuPerReq: used / (acked + rejected),
    rps: acked / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: rejected,
  };
}

export async function webhookIngest(
  rig: Rig,
  target: SlackTarget,
  levels: number[],
  seconds: number,
): Promise<IngestResult> {
  const acknowledged: SlackDelivery[] = [];
  // Warm-up, unmeasured: JIT, connection pools, first BullMQ scripts.
  await bare(rig, levels[0], 1);
  await webhooks(rig, target, levels[0], 1, acknowledged);
  const results: LevelResult[] = [];
  for (const connections of levels) {
    const base = await bare(rig, connections, seconds);
    const baselineRps = base.rps;
    const hook = await webhooks(rig, target, connections, seconds, acknowledged);
    results.push({
      connections,
      baselineRps,
      baselineApiCpuMsPerReq: base.cpuPerReq,
      webhookApiCpuMsPerReq: hook.cpuPerReq,
      webhookRps: hook.rps,
      ratio: hook.rps / baselineRps,
      webhookP50Ms: hook.p50,
      webhookP99Ms: hook.p99,
      non2xx: hook.non2xx,
    });
    console.log(
      `[P2] ${connections} connections: bare ${baselineRps.toFixed(0)} req/s, webhook ` +
        `${hook.rps.toFixed(0)} req/s (p50 ${hook.p50} ms, p99 ${hook.p99} ms, ` +
        `${hook.non2xx} non-2xx); API CPU per request: bare ${base.cpuPerReq.toFixed(2)} ms, ` +
        `webhook ${hook.cpuPerReq.toFixed(2)} ms`,
    );
  }
  const loss = await lossCheck(rig, target, acknowledged);
  return {
    levels: results,
    peakWebhookRps: Math.max(...results.map((r) => r.webhookRps)),
    peakBaselineRps: Math.max(...results.map((r) => r.baselineRps)),
    loss,
  };
}
