import { describe, expect, it } from 'vitest';
import { distributionOf, historyLimits, slackRateBudgets } from './slack.catalog.js';

const credentials = (distribution?: string) => ({
  clientId: 'id',
  clientSecret: 'secret',
  ...(distribution ? { options: { distribution } } : {}),
});

describe('Slack app distribution and budgets', () => {
  it('defaults to the non-Marketplace rule: one history call a minute, 15 messages each', () => {
    expect(distributionOf(credentials())).toBe('non_marketplace');
    expect(historyLimits('non_marketplace')).toEqual({ perMinute: 1, pageSize: 15 });
    const history = slackRateBudgets('non_marketplace').filter((b) =>
      b.operations?.some(
        (o) => o.startsWith('conversations.history') || o === 'conversations.replies',
      ),
    );
    expect(history).toEqual([
      { scope: 'account', limit: 1, windowMs: 60_000, operations: ['conversations.history'] },
      { scope: 'account', limit: 1, windowMs: 60_000, operations: ['conversations.replies'] },
    ]);
  });

  it('internal and Marketplace apps keep Tier 3', () => {
    expect(historyLimits(distributionOf(credentials('internal')))).toEqual({
      perMinute: 50,
      pageSize: 200,
    });
    expect(historyLimits('marketplace').perMinute).toBe(50);
  });

  it('every budget is per workspace and per method', () => {
    for (const budget of slackRateBudgets('marketplace')) {
      expect(budget.scope).toBe('account');
      expect(budget.operations).toHaveLength(1);
    }
  });

  it('refuses an unknown distribution with the variable and the allowed values', () => {
    expect(() => distributionOf(credentials('public'))).toThrow(
      'SLACK_APP_DISTRIBUTION must be one of non_marketplace, marketplace, internal (got "public")',
    );
  });
});
