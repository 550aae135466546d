import type { NormalizedItem } from './contract.js';

type Required = Pick<NormalizedItem, 'kind' | 'externalId' | 'externalVersion'>;

/** A NormalizedItem with every optional field empty, so mappers state only what they know. */
export function normalizedItem(fields: Required & Partial<NormalizedItem>): NormalizedItem {
  return {
    containerId: null,
    containerName: null,
    title: null,
    body: null,
    status: null,
    startsAt: null,
    endsAt: null,
    allDay: false,
    dueAt: null,
    url: null,
    assignees: [],
    labels: [],
    author: null,
    externalUpdatedAt: null,
    raw: {},
    ...fields,
  };
}

/**
 * A numeric provider version (a sequence, epoch milliseconds) zero-padded to 20 digits, so the
 * store's byte-by-byte comparison of `externalVersion` is numeric order ("9" > "10" otherwise).
 */
export function numericVersion(value: number | bigint | string): string {
  const digits = String(value);
  if (!/^\d{1,20}$/.test(digits)) throw new RangeError(`Not a non-negative integer: ${digits}`);
  return digits.padStart(20, '0');
}
