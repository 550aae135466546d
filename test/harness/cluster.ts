import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresInstance } from './postgres-instance.js';
import { freePort } from './ports.js';
import { RedisClusterInstance, type RedisClusterOptions } from './redis-cluster.js';
import { RedisInstance, type RedisInstanceOptions } from './redis-instance.js';
import { RoundRobinProxy } from './round-robin-proxy.js';
import { ServiceProcess } from './service-process.js';

export const CLUSTER_API_TOKEN = 'harness-internal-token-0123456789abcdef';

export interface ClusterOptions {
  /** Worker processes besides the API process (default 2). */
  workers?: number;
  /** Extra environment for every process (PROVIDER_ORIGINS, client credentials, ...). */
  env?: Record<string, string>;
  redis?: RedisInstanceOptions;
  /**
   * Run on a Redis Cluster of the test's own instead of one Redis: the processes get
   * REDIS_CLUSTER_NODES (every node) and no REDIS_URL.
   */
  redisCluster?: RedisClusterOptions;
  /**
   * API processes (default 1). With more, a round-robin balancer in front of them is the
   * public URL (PUBLIC_URL, OAuth callbacks, webhook deliveries, `request`).
   */
  apis?: number;
  /** Node flags for the worker processes (e.g. --cpu-prof). */
  workerNodeArgs?: string[];
  /** Node flags for the API process. */
  apiNodeArgs?: string[];
  /** The built service to run (default `dist/main.js` of the working directory). */
  entry?: string;
}

/**
 * The production shape on one machine: a Postgres and a Redis of the test's own (spare ports,
 * temporary directories), one `ROLE=api` process and N `ROLE=worker` processes of the built
 * service. Anything in it can be killed and restarted without touching the machine's services.
 */
export class Cluster {
  readonly pg = new PostgresInstance();
  readonly redis: RedisInstance;
  /** The Redis Cluster, when the options asked for one (then `redis` is not started). */
  readonly redisCluster?: RedisClusterInstance;
  api!: ServiceProcess;
  /** Every API process; `api` is the first. */
  apis: ServiceProcess[] = [];
  /** The balancer in front of the APIs (only with `apis` > 1). */
  proxy?: RoundRobinProxy;
  /** Each API process's own port (PORT), by index: to reach one API past the balancer. */
  apiPorts: number[] = [];
  workers: ServiceProcess[] = [];
  /** Each worker's WORKER_HEALTH_PORT (health probes and its own /metrics), by worker index. */
  workerHealthPorts: number[] = [];
  baseUrl = '';
  logDir = '';
  readonly encryptionKey = `k1:${randomBytes(32).toString('base64')}`;

  constructor(private readonly options: ClusterOptions = {}) {
    this.redis = new RedisInstance(options.redis);
    if (options.redisCluster) this.redisCluster = new RedisClusterInstance(options.redisCluster);
  }

  get processes(): ServiceProcess[] {
    return [...this.apis, ...this.workers].filter(Boolean);
  }

  /** Every line every process wrote, for leak checks. */
  get allLines(): string[] {
    return this.processes.flatMap((p) => p.lines);
  }

  async start(): Promise<this> {
    try {
      return await this.startAll();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async startAll(): Promise<this> {
    this.logDir = await mkdtemp(join(tmpdir(), 'pdeck-cluster-'));
    await Promise.all([
      this.pg.start(),
      this.redisCluster ? this.redisCluster.start() : this.redis.start(),
    ]);
    const apiPorts: number[] = [];
    for (let i = 0; i < (this.options.apis ?? 1); i++) apiPorts.push(await freePort());
    this.apiPorts = apiPorts;
    if (apiPorts.length > 1) this.proxy = await new RoundRobinProxy(() => apiPorts).start();
    const port = apiPorts[0];
    this.baseUrl = this.proxy?.url ?? `http://127.0.0.1:${port}`;
    const redisEnv: Record<string, string> = this.redisCluster
      ? { REDIS_CLUSTER_NODES: this.redisCluster.seedNodes }
      : { REDIS_URL: this.redis.url };
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      PORT: String(port),
      PUBLIC_URL: this.baseUrl,
      DATABASE_URL: this.pg.url,
      ...redisEnv,
      INTERNAL_API_TOKENS: CLUSTER_API_TOKEN,
      ENCRYPTION_KEYS: this.encryptionKey,
      LOG_LEVEL: 'info',
      DATA_DIR: join(this.logDir, 'data'),
      RETURN_TO_ORIGINS: this.baseUrl,
      ...this.options.env,
    };
    const logFile = join(this.logDir, 'service.log');
    // The API first: it runs the migrations (under an advisory lock, so the order is not needed
    // for correctness, only for a quieter log).
    const entry = this.options.entry;
    this.apis = apiPorts.map(
      (apiPort, i) =>
        new ServiceProcess(
          i === 0 ? 'api' : `api-${i + 1}`,
          'api',
          { ...env, PORT: String(apiPort) },
          { logFile, entry, nodeArgs: this.options.apiNodeArgs },
        ),
    );
    this.api = this.apis[0];
    await this.api.start();
    await Promise.all(this.apis.slice(1).map((a) => a.start()));
    const count = this.options.workers ?? 2;
    this.workerHealthPorts = [];
    for (let i = 0; i < count; i++) this.workerHealthPorts.push(await freePort());
    this.workers = this.workerHealthPorts.map(
      (healthPort, i) =>
        new ServiceProcess(
          `worker-${i + 1}`,
          'worker',
          { ...env, WORKER_HEALTH_PORT: String(healthPort) },
          { logFile, entry, nodeArgs: this.options.workerNodeArgs },
        ),
    );
    await Promise.all(this.workers.map((w) => w.start()));
    return this;
  }

  /** fetch against the API process with the internal bearer token. */
  request(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${CLUSTER_API_TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  /** fetch against API process `index` itself (not the balancer), with the bearer token. */
  apiRequest(index: number, path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.apiPorts[index]}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${CLUSTER_API_TOKEN}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  /** fetch against worker `index`'s health server (/health/live, /health/ready, /metrics). */
  workerRequest(index: number, path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.workerHealthPorts[index]}${path}`, init);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.close()));
    await this.proxy?.stop();
    await Promise.allSettled([
      this.pg.destroy(),
      this.redis.destroy(),
      this.redisCluster?.destroy(),
    ]);
  }
}
