import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';

function errorOf(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('retention settings', () => {
  it('default to a week of bodies, a month of deliveries, and 100 runs or 30 days of sync runs', () => {
    expect(parseConfig({}).retention).toEqual({
      webhookBodyDays: 7,
      webhookDeliveryDays: 30,
      syncRunCount: 100,
      syncRunDays: 30,
    });
  });

  it('reads each variable', () => {
    const config = parseConfig({
      WEBHOOK_BODY_RETENTION_DAYS: '3',
      WEBHOOK_DELIVERY_RETENTION_DAYS: '3',
      SYNC_RUN_RETENTION_COUNT: '20',
      SYNC_RUN_RETENTION_DAYS: '90',
    });
    expect(config.retention).toEqual({
      webhookBodyDays: 3,
      webhookDeliveryDays: 3,
      syncRunCount: 20,
      syncRunDays: 90,
    });
  });

  it.each([
    ['WEBHOOK_BODY_RETENTION_DAYS', '1.5'],
    ['WEBHOOK_DELIVERY_RETENTION_DAYS', 'month'],
    ['SYNC_RUN_RETENTION_COUNT', '0'],
    ['SYNC_RUN_RETENTION_DAYS', '-1'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(errorOf({ [name]: value })).toMatch(
      new RegExp(`^Invalid configuration: ${name} .*\\(got "${value}"\\)$`),
    );
  });

  it('refuses a body window longer than the delivery window', () => {
    expect(
      errorOf({ WEBHOOK_BODY_RETENTION_DAYS: '40', WEBHOOK_DELIVERY_RETENTION_DAYS: '30' }),
    ).toBe(
      'Invalid configuration: WEBHOOK_BODY_RETENTION_DAYS must not exceed WEBHOOK_DELIVERY_RETENTION_DAYS (got 40 > 30)',
    );
    // The default delivery window (30) applies when only the body window is set.
    expect(errorOf({ WEBHOOK_BODY_RETENTION_DAYS: '31' })).toContain('must not exceed');
  });
});
