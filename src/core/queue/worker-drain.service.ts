import { WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/**
 * Graceful shutdown for queue workers. Nest closes modules' resources in onApplicationShutdown
 * in an order that does not follow job needs: the Postgres pool could close while a sync is
 * half way, failing it. Here, one phase earlier (beforeApplicationShutdown), every BullMQ worker
 * stops taking jobs and waits for its active ones to finish while Postgres and Redis are still
 * open. main.ts bounds the whole shutdown (a job longer than that is resumed by another worker
 * from its last committed page once its lock expires, as after a crash).
 */
@Injectable()
export class WorkerDrainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerDrainService.name);

  constructor(private readonly discovery: DiscoveryService) {}

  async beforeApplicationShutdown(): Promise<void> {
    const workers = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost)
      .map((host) => {
        try {
          return host.worker;
        } catch {
          return undefined; // a host whose worker was never created (ROLE=api)
        }
      })
      .filter((worker) => worker !== undefined);
    if (workers.length === 0) return;
    const started = Date.now();
    await Promise.all(workers.map((worker) => worker.close()));
    this.logger.log(
      { workers: workers.length, ms: Date.now() - started },
      'Queue workers drained: active jobs finished',
    );
  }
}
