import { describe, expect, it } from 'vitest';
import { MetricsService } from './metrics.service.js';

describe('MetricsService', () => {
  it('renders the text format with an incremented counter and an observed histogram', async () => {
    const metrics = new MetricsService();
    metrics.webhookDeliveries.inc({ provider: 'slack', outcome: 'accepted' });
    metrics.webhookDeliveries.inc({ provider: 'slack', outcome: 'accepted' });
    metrics.syncRuns.inc({ provider: 'jira', mode: 'incremental', outcome: 'ok' });
    metrics.webhookAckSeconds.observe({ provider: 'trello' }, 0.02);
    const text = await metrics.metrics();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE webhook_deliveries_total counter');
    expect(text).toContain('webhook_deliveries_total{provider="slack",outcome="accepted"} 2');
    expect(text).toContain('sync_runs_total{provider="jira",mode="incremental",outcome="ok"} 1');
    expect(text).toContain('webhook_ack_seconds_bucket{le="0.025",provider="trello"} 1');
  });

  it('keeps each instance independent, so several apps can live in one process', async () => {
    const first = new MetricsService();
    const second = new MetricsService();
    first.syncItems.inc({ provider: 'google', outcome: 'created' }, 5);
    expect(await first.metrics()).toContain(
      'sync_items_total{provider="google",outcome="created"} 5',
    );
    expect(await second.metrics()).not.toContain('sync_items_total{');
  });
});
