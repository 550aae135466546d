/**
 * MERGE_POLICY: overrides of the merged view's provider ranks (docs/cross-source.md,
 * "Precedence policy"). Only the shape is checked here; the policy itself (src/links/merged/)
 * fills in the defaults. Core knows no provider, so a provider id is checked for its form only:
 * an id no integration uses simply never matches a member.
 *
 * Shape: `{"<kind>": {"rank": [providers...], "fields": {"<field>": [providers...]}}}`, every
 * key optional. `rank` replaces the kind's default rank; `fields.<field>` replaces it for one
 * field. Providers first in a list win; providers not listed come after the listed ones.
 */

export const MERGE_POLICY_KINDS = ['event', 'task', 'message'] as const;
export type MergePolicyKind = (typeof MERGE_POLICY_KINDS)[number];

/** Fields chosen from one source (assignees and labels are a union; allDay follows startsAt). */
export const RANKED_FIELDS = [
  'title',
  'body',
  'status',
  'startsAt',
  'endsAt',
  'dueAt',
  'url',
] as const;
export type RankedField = (typeof RANKED_FIELDS)[number];

export interface KindPolicyOverride {
  rank?: string[];
  fields?: Partial<Record<RankedField, string[]>>;
}

export type MergePolicyOverrides = Partial<Record<MergePolicyKind, KindPolicyOverride>>;

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAX_PROVIDERS = 20;
const EXAMPLE = '{"task":{"rank":["jira","trello","slack"],"fields":{"dueAt":["trello","jira"]}}}';

export type MergePolicyParse =
  { ok: true; overrides: MergePolicyOverrides } | { ok: false; error: string };

/** Parses and checks MERGE_POLICY; the error names the variable and the path of what is wrong. */
export function parseMergePolicy(text: string): MergePolicyParse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('MERGE_POLICY', `is not JSON; expected e.g. ${EXAMPLE}`);
  }
  if (!isObject(parsed)) return fail('MERGE_POLICY', `must be a JSON object, e.g. ${EXAMPLE}`);
  const overrides: MergePolicyOverrides = {};
  for (const [kind, value] of Object.entries(parsed)) {
    const path = `MERGE_POLICY.${kind}`;
    if (!(MERGE_POLICY_KINDS as readonly string[]).includes(kind)) {
      return fail(path, `is not a kind (one of ${MERGE_POLICY_KINDS.join(', ')})`);
    }
    if (!isObject(value)) return fail(path, 'must be an object with "rank" and/or "fields"');
    const kindOverride: KindPolicyOverride = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'rank') {
        const rank = providerList(`${path}.rank`, inner);
        if (typeof rank === 'string') return { ok: false, error: rank };
        kindOverride.rank = rank;
      } else if (key === 'fields') {
        if (!isObject(inner))
          return fail(`${path}.fields`, 'must be an object of field: [providers]');
        const fields: Partial<Record<RankedField, string[]>> = {};
        for (const [field, list] of Object.entries(inner)) {
          if (!(RANKED_FIELDS as readonly string[]).includes(field)) {
            return fail(
              `${path}.fields.${field}`,
              `is not a ranked field (one of ${RANKED_FIELDS.join(', ')})`,
            );
          }
          const rank = providerList(`${path}.fields.${field}`, list);
          if (typeof rank === 'string') return { ok: false, error: rank };
          fields[field as RankedField] = rank;
        }
        kindOverride.fields = fields;
      } else {
        return fail(`${path}.${key}`, 'is not a setting (use "rank" or "fields")');
      }
    }
    overrides[kind as MergePolicyKind] = kindOverride;
  }
  return { ok: true, overrides };
}

/** A list of distinct provider ids, or the error message. */
function providerList(path: string, value: unknown): string[] | string {
  if (!Array.isArray(value) || value.length > MAX_PROVIDERS) {
    return message(path, `must be an array of at most ${MAX_PROVIDERS} provider ids`);
  }
  const seen = new Set<string>();
  for (const id of value) {
    if (typeof id !== 'string' || !PROVIDER_ID.test(id)) {
      return message(path, `has ${JSON.stringify(id)}, which is not a provider id (e.g. "jira")`);
    }
    if (seen.has(id)) return message(path, `lists "${id}" twice`);
    seen.add(id);
  }
  return [...seen];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function message(path: string, problem: string): string {
  return `${path} ${problem}`;
}

function fail(path: string, problem: string): MergePolicyParse {
  return { ok: false, error: message(path, problem) };
}
