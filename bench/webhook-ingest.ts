import autocannon from 'autocannon';
import { cpuMs, type Rig } from './kit.js';
import {
  cardsLeft,
  deleteCardDelivery,
  lossCheck,
  takeCard,
  type LossCheck,
  type TrelloTarget,
} from './trello-kit.js';

/**
 * P2: the webhook route under closed-loop load (autocannon, N connections each sending the next
 * request as soon as the last is answered) against the bare liveness route of the same API
 * process, level by level, in the same run.
 *
 * Every webhook request is a distinct, correctly signed Trello `deleteCard` delivery of a
 * different live card: the service verifies it, stores it in webhook_deliveries, enqueues it,
 * answers 200; a worker then tombstones the item. So the loss check afterwards can demand that
 * every acknowledged delivery was stored once and tombstoned its item.
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

interface CardContext {
  card?: string;
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

/**
 * Closed-loop load of signed deliveries. Counts only 2xx answers to deliveries (their cards are
 * kept for the loss check); stops early if the pool of live cards runs out.
 */
async function webhooks(
  rig: Rig,
  target: TrelloTarget,
  connections: number,
  seconds: number,
  acknowledged: string[],
): Promise<{ rps: number; p50: number; p99: number; non2xx: number; cpuPerReq: number }> {
  const cpu = cpuMs(rig.cluster.api.pid!);
  let instance: autocannon.Instance | undefined;
  let acked = 0;
  let rejected = 0;
  const url = new URL(target.callbackUrl);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: target.callbackUrl,
        connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (request, context) => {
              const ctx = context as CardContext;
              const card = takeCard(target);
              ctx.card = card;
              if (!card) {
                // Pool empty: end the level; this last request is a probe nobody counts.
                instance?.stop();
                return { ...request, method: 'HEAD', path: url.pathname };
              }
              const delivery = deleteCardDelivery(target, rig, card);
              return {
                ...request,
                method: 'POST',
                path: url.pathname,
                headers: delivery.headers,
                body: delivery.body,
              };
            },
            onResponse: (status, _body, context) => {
              const card = (context as CardContext).card;
              if (!card) return;
              if (status >= 200 && status < 300) {
                acked += 1;
                acknowledged.push(card);
              } else rejected += 1;
            },
          },
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false });
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
  target: TrelloTarget,
  levels: number[],
  seconds: number,
): Promise<IngestResult> {
  const acknowledged: string[] = [];
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
        `webhook ${hook.cpuPerReq.toFixed(2)} ms; ${cardsLeft(target)} cards left`,
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
