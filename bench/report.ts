import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { Rig } from './kit.js';

/** One line of the table: a figure, what it is compared with, and the target. */
export interface Figure {
  id: string;
  what: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineWhat: string | null;
  /** value / baseline, when there is a baseline. */
  ratio: number | null;
  target: string;
  /** null in --quick mode: targets are not enforced there. */
  pass: boolean | null;
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  postgres: string;
  redis: string;
}

export async function machine(rig: Rig): Promise<Machine> {
  const [{ server_version: postgres }] = await rig.cluster.pg.query<{ server_version: string }>(
    'SHOW server_version',
  );
  const redisClient = rig.cluster.redis.client();
  try {
    const info = await redisClient.info('server');
    const redis = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
    return {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      postgres,
      redis,
    };
  } finally {
    redisClient.disconnect();
  }
}

function fmt(n: number | null, digits = 0): string {
  if (n === null || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return 'inf';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function valueText(f: Figure): string {
  const digits = f.unit !== 'deliveries' && f.value < 10 ? 2 : 0;
  return `${fmt(f.value, digits)} ${f.unit}`;
}

/** The table as Markdown (the README shows the same). */
export function table(figures: Figure[]): string {
  const head = '| id | figure | value | baseline (same run) | ratio | target | result |';
  const rule = '|---|---|---|---|---|---|---|';
  const rows = figures.map((f) => {
    const baseline =
      f.baseline === null ? '-' : `${fmt(f.baseline, f.baseline < 10 ? 2 : 0)} (${f.baselineWhat})`;
    const ratio = f.ratio === null ? '-' : fmt(f.ratio, f.ratio < 0.1 ? 4 : 2);
    const result = f.pass === null ? 'not enforced' : f.pass ? 'pass' : 'FAIL';
    return `| ${f.id} | ${f.what} | ${valueText(f)} | ${baseline} | ${ratio} | ${f.target} | ${result} |`;
  });
  return [head, rule, ...rows].join('\n');
}

export async function writeReport(
  path: string,
  report: { mode: string; machine: Machine; figures: Figure[]; details: unknown },
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const body = { generatedAt: new Date().toISOString(), ...report };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
}
