import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { WebhookDelivery, type WebhookDeliveryStatus } from './entities/webhook-delivery.entity.js';

export interface NewDelivery {
  provider: string;
  deliveryId: string;
  headers: Record<string, string>;
  body: string;
}

/** Final states: the worker never touches these again. */
type FinalStatus = Exclude<WebhookDeliveryStatus, 'received'>;

/** Every read and write of webhook_deliveries: the durable inbox and dedupe of the receiver. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectRepository(WebhookDelivery) private readonly repo: Repository<WebhookDelivery>,
  ) {}

  /**
   * Stores a delivery unless (provider, delivery id) is already stored. Returns the new row id,
   * or null for a duplicate. One statement, so concurrent copies race on the unique index and
   * exactly one wins.
   */
  async insert(delivery: NewDelivery): Promise<string | null> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values({ id: randomUUID(), ...delivery })
      .orIgnore()
      .returning(['id'])
      .execute();
    const row = result.raw[0] as { id: string } | undefined;
    return row?.id ?? null;
  }

  find(id: string): Promise<WebhookDelivery | null> {
    return this.repo.findOneBy({ id });
  }

  /** Counts an attempt on a delivery that still waits; null when it was already finished. */
  async startAttempt(id: string): Promise<WebhookDelivery | null> {
    await this.repo.increment({ id, status: 'received' }, 'attempts', 1);
    return this.repo.findOneBy({ id, status: 'received' });
  }

  async finish(id: string, status: FinalStatus, error: string | null = null): Promise<void> {
    await this.repo.update(
      { id, status: 'received' },
      { status, error: error?.slice(0, 500) ?? null, processedAt: new Date() },
    );
  }

  /** Ids of deliveries still waiting that arrived before `before` (lost enqueue, lost Redis). */
  async stale(before: Date, limit = 500): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: { status: 'received', receivedAt: LessThan(before) },
      order: { receivedAt: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
