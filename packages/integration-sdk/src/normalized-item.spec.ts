import { describe, expect, it } from 'vitest';
import { normalizedItem, numericVersion } from './normalized-item.js';

describe('normalizedItem', () => {
  it('fills every field a mapper leaves out with its empty value', () => {
    const item = normalizedItem({
      kind: 'task',
      externalId: 't1',
      externalVersion: '1',
      title: 'x',
    });
    expect(item).toMatchObject({
      title: 'x',
      body: null,
      assignees: [],
      labels: [],
      allDay: false,
    });
  });
});

describe('numericVersion', () => {
  it('pads so that text order is numeric order', () => {
    expect(numericVersion(9) < numericVersion(10)).toBe(true);
    expect(numericVersion(9)).toBe('00000000000000000009');
    expect(numericVersion('18446744073709551615')).toBe('18446744073709551615');
    expect(() => numericVersion(-1)).toThrow(RangeError);
    expect(() => numericVersion('1e5')).toThrow(RangeError);
  });
});
