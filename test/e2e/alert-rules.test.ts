import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEST_API_TOKEN } from '../support/test-app.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const RULES_FILE = new URL('../../deploy/prometheus/alerts.yml', import.meta.url);
const OPERATIONS_DOC = new URL('../../docs/operations.md', import.meta.url);

/** Every series selector of an expression: a name followed by `{` or `[` (the rules always use one). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]);
}

/** Names a /metrics answer declares (`# TYPE name kind`), with histogram and summary series. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (kind === 'histogram' || kind === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

describe('alert rules (deploy/prometheus/alerts.yml)', () => {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  let t: WebhookTestApp;

  beforeAll(async () => {
    t = await startWebhookTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are Prometheus rule groups, each rule complete and documented', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    const operations = readFileSync(OPERATIONS_DOC, 'utf8');
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(rule.expr, rule.alert).toBeTruthy();
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['info', 'warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook).toBe(`docs/operations.md#${rule.alert!.toLowerCase()}`);
      // The runbook anchor is a heading of docs/operations.md.
      expect(operations).toMatch(new RegExp(`^#+ ${rule.alert}$`, 'm'));
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('use only metrics the service exports at /metrics', async () => {
    const res = await fetch(`${t.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const names = exported(await res.text());
    for (const rule of rules) {
      const used = metricNames(rule.expr!);
      expect(used.length, `${rule.alert} names no metric`).toBeGreaterThan(0);
      for (const name of used) expect(names.has(name), `${rule.alert}: ${name}`).toBe(true);
    }
  });
});
