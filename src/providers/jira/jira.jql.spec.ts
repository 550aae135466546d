import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCOPE_JQL,
  jqlProblem,
  keysIn,
  scopeHash,
  scopeJql,
  updatedSince,
} from './jira.jql.js';

describe('jqlProblem: the local check of a scope override', () => {
  it('accepts ordinary filters, also over several lines and with quoted parentheses', () => {
    for (const jql of [
      'project = PD',
      'project in (PD, OPS) AND assignee = currentUser()',
      'summary ~ "a (b" AND\n  status != Done',
      'labels = "order by"',
    ]) {
      expect(jqlProblem(jql)).toBeNull();
    }
  });

  it('refuses empty, too long, ORDER BY, unbalanced and control characters', () => {
    expect(jqlProblem('  ')).toMatch(/empty/);
    expect(jqlProblem(`project = ${'X'.repeat(2000)}`)).toMatch(/at most/);
    expect(jqlProblem('project = PD ORDER BY key')).toMatch(/ORDER BY/);
    expect(jqlProblem('project = PD order\tby updated')).toMatch(/ORDER BY/);
    expect(jqlProblem('(project = PD')).toMatch(/unbalanced "\("/);
    expect(jqlProblem('project = PD)')).toMatch(/unbalanced "\)"/);
    expect(jqlProblem('summary ~ "open')).toMatch(/unterminated/);
    expect(jqlProblem('project = PD\u0000')).toMatch(/control/);
    expect(jqlProblem('project = PD\u007f')).toMatch(/control/);
  });
});

describe('scope and incremental clauses', () => {
  it('uses a valid override, else the default', () => {
    expect(scopeJql({})).toBe(DEFAULT_SCOPE_JQL);
    expect(scopeJql({ jql: null })).toBe(DEFAULT_SCOPE_JQL);
    expect(scopeJql({ jql: ' project = PD ' })).toBe('project = PD');
    expect(scopeJql({ jql: 'project = PD ORDER BY key' })).toBe(DEFAULT_SCOPE_JQL);
    expect(scopeHash('project = PD')).not.toBe(scopeHash(DEFAULT_SCOPE_JQL));
  });

  it('reads "changed since" as whole minutes back from now, plus two minutes of overlap', () => {
    const now = new Date('2026-03-04T10:00:00.000Z');
    expect(updatedSince(new Date('2026-03-04T09:00:00.000Z'), now)).toBe('updated >= "-62m"');
    expect(updatedSince(new Date('2026-03-04T09:59:30.500Z'), now)).toBe('updated >= "-3m"');
    // A watermark from Jira's clock a little ahead of ours still reaches back.
    expect(updatedSince(new Date('2026-03-04T10:05:00.000Z'), now)).toBe('updated >= "-1m"');
  });

  it('quotes keys and drops quotes and backslashes from them', () => {
    expect(keysIn(['PD-1', 'OPS-2'])).toBe('key in ("PD-1", "OPS-2")');
    expect(keysIn(['PD-"1\\'])).toBe('key in ("PD-1")');
  });
});
