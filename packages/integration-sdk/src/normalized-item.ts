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
