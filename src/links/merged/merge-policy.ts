import {
  MERGE_POLICY_KINDS,
  RANKED_FIELDS,
  type MergePolicyKind,
  type MergePolicyOverrides,
  type RankedField,
} from '../../core/config/merge-policy-config.js';

/**
 * The precedence policy of the merged view (docs/cross-source.md, "Precedence policy"): from the
 * member items of one merged entry, one record whose every field says which member it came from
 * and why, plus the conflicts the policy could not settle. Pure: no Nest, no database, and the
 * result depends only on the set of members, never on their order.
 */

export type MergeKind = MergePolicyKind;
export type { RankedField };

/** One member item as the policy reads it (times as ISO 8601 strings). */
export interface MergeMember {
  id: string;
  provider: string;
  kind: MergeKind;
  connectionId: string;
  title: string | null;
  body: string | null;
  status: string | null;
  startsAt: string | null;
  endsAt: string | null;
  allDay: boolean;
  dueAt: string | null;
  url: string | null;
  assignees: readonly string[];
  labels: readonly string[];
  externalUpdatedAt: string | null;
  updatedAt: string;
  /** The connection's account email (a Google Calendar account is its primary calendar id). */
  accountEmail?: string | null;
  /** `raw.organizer` of a calendar event, when the provider sent one. */
  organizer?: { email?: string | null; self?: boolean | null } | null;
}

export interface Provenance {
  itemId: string;
  provider: string;
}

/** A field taken from one member: `source` is null when every member left it empty. */
export interface MergedValue<T> {
  value: T;
  source: Provenance | null;
  reason: string;
}

/** A field made of every member's values (assignees, labels). */
export interface MergedList {
  value: string[];
  sources: Provenance[];
  reason: string;
}

export interface MergedFields {
  title: MergedValue<string | null>;
  body: MergedValue<string | null>;
  status: MergedValue<string | null>;
  startsAt: MergedValue<string | null>;
  endsAt: MergedValue<string | null>;
  allDay: MergedValue<boolean>;
  dueAt: MergedValue<string | null>;
  url: MergedValue<string | null>;
  assignees: MergedList;
  labels: MergedList;
}

/** Fields on which two equally authoritative sources may disagree. */
export const CONFLICT_FIELDS = ['status', 'dueAt', 'startsAt', 'endsAt'] as const;
export type ConflictField = (typeof CONFLICT_FIELDS)[number];

export interface ConflictValue {
  value: string;
  itemId: string;
  provider: string;
}

/** Two or more members of equal top rank with different non-empty values for one field. */
export interface MergeConflict {
  field: ConflictField;
  values: ConflictValue[];
  reason: string;
}

export interface MergedRecord {
  kind: MergeKind;
  fields: MergedFields;
  conflicts: MergeConflict[];
}

export interface KindPolicy {
  /** Providers in precedence order; providers not listed come after every listed one. */
  rank: readonly string[];
  /** Per-field replacements of `rank`. */
  fields: Partial<Record<RankedField, readonly string[]>>;
  /** Events: the organizer's copy first (before the provider rank). */
  organizerFirst: boolean;
}

export type MergePolicy = Record<MergeKind, KindPolicy>;

/**
 * The default table. Tasks: the system of record first (Jira, then Trello, then Slack). Events:
 * the organizer's calendar first, then calendar copies before anything else. Messages: the
 * most recent. Within one rank the most recent member wins (externalUpdatedAt, else updatedAt).
 */
export const DEFAULT_MERGE_POLICY: MergePolicy = {
  task: { rank: ['jira', 'trello', 'slack'], fields: {}, organizerFirst: false },
  event: { rank: ['google-calendar'], fields: {}, organizerFirst: true },
  message: { rank: [], fields: {}, organizerFirst: false },
};

/** The default table with MERGE_POLICY's overrides applied (a kind's `rank`, then `fields`). */
export function resolveMergePolicy(overrides: MergePolicyOverrides = {}): MergePolicy {
  const policy = {} as MergePolicy;
  for (const kind of MERGE_POLICY_KINDS) {
    const base = DEFAULT_MERGE_POLICY[kind];
    const override = overrides[kind];
    policy[kind] = {
      rank: override?.rank ?? base.rank,
      fields: { ...base.fields, ...override?.fields },
      organizerFirst: base.organizerFirst,
    };
  }
  return policy;
}

/**
 * The kind of the merged record: the first kind present in this order. A task or an event is
 * the thing itself; a message is talk about it, so it never decides the kind of a group that
 * has anything else.
 */
const KIND_ORDER: readonly MergeKind[] = ['task', 'event', 'message'];

/** Sort key of a member for one field: lower wins. */
interface RankKey {
  organizer: number;
  rank: number;
  /** The member is the organizer's copy of an event (organizer-first kinds only). */
  organizerMatch: boolean;
  /** The member's provider is listed in the field's rank. */
  listed: boolean;
  /** Whether disagreement at this key is a conflict (see rankKey). */
  authoritative: boolean;
}

export function mergeMembers(
  members: readonly MergeMember[],
  policy: MergePolicy = DEFAULT_MERGE_POLICY,
): MergedRecord {
  if (members.length === 0) throw new RangeError('a merged entry has at least one member');
  // A total order first (ids are unique), so every later sort is independent of input order.
  const byId = [...members].sort((a, b) => compareText(a.id, b.id));
  const kind = KIND_ORDER.find((k) => byId.some((m) => m.kind === k)) ?? byId[0].kind;
  const kindPolicy = policy[kind];
  const ctx: Context = { kind, policy: kindPolicy, members: byId };

  const ranked = Object.fromEntries(
    RANKED_FIELDS.map((field) => [field, pick(ctx, field)]),
  ) as Record<RankedField, Pick>;
  const startsAt = ranked.startsAt;
  const startsMember = startsAt.winner;
  const fields: MergedFields = {
    title: ranked.title.value,
    body: ranked.body.value,
    status: ranked.status.value,
    startsAt: startsAt.value,
    endsAt: ranked.endsAt.value,
    // An all-day flag means nothing apart from its start: it comes with startsAt.
    allDay: {
      value: startsMember?.allDay ?? false,
      source: startsMember ? provenance(startsMember) : null,
      reason: startsMember ? 'follows startsAt' : 'no source has a start time',
    },
    dueAt: ranked.dueAt.value,
    url: ranked.url.value,
    assignees: union(byId, (m) => m.assignees),
    labels: union(byId, (m) => m.labels),
  };
  const conflicts = CONFLICT_FIELDS.flatMap((field) => {
    const conflict = ranked[field].conflict;
    return conflict ? [conflict] : [];
  });
  return { kind, fields, conflicts };
}

interface Context {
  kind: MergeKind;
  policy: KindPolicy;
  members: readonly MergeMember[];
}

interface Pick {
  value: MergedValue<string | null>;
  winner: MergeMember | undefined;
  conflict: MergeConflict | undefined;
}

function pick(ctx: Context, field: RankedField): Pick {
  const rank = ctx.policy.fields[field] ?? ctx.policy.rank;
  const keys = new Map(ctx.members.map((m) => [m.id, rankKey(ctx, m, rank)]));
  const key = (m: MergeMember) => keys.get(m.id)!;
  const ordered = [...ctx.members].sort(
    (a, b) =>
      key(a).organizer - key(b).organizer ||
      key(a).rank - key(b).rank ||
      recency(b) - recency(a) ||
      compareText(a.id, b.id),
  );
  const at = ordered.findIndex((m) => !isEmpty(m[field]));
  if (at < 0) {
    return {
      value: { value: null, source: null, reason: 'empty in every source' },
      winner: undefined,
      conflict: undefined,
    };
  }
  const winner = ordered[at];
  const winnerKey = key(winner);
  // Non-empty members of the winner's rank: more than one means recency decided between them.
  const peers = ordered.filter((m) => !isEmpty(m[field]) && sameRank(key(m), winnerKey));
  const label = sourceLabel(ctx.kind, winner, winnerKey);
  const conflict = winnerKey.authoritative ? conflictOf(field, peers, winnerKey) : undefined;
  let reason: string;
  if (conflict) {
    reason = `conflict: most recent of ${peers.length} ${peerWords(winnerKey, peers)}`;
  } else if (peers.length > 1 && (winnerKey.listed || winnerKey.organizerMatch)) {
    reason = `${label}, most recent of ${peers.length}`;
  } else {
    reason = label;
  }
  if (at > 0) {
    const skipped = unique(ordered.slice(0, at).map((m) => m.provider));
    reason = `fallback: empty in ${skipped.join(', ')}; ${reason}`;
  }
  return {
    value: { value: normalized(field, winner[field]!), source: provenance(winner), reason },
    winner,
    conflict,
  };
}

function rankKey(ctx: Context, member: MergeMember, rank: readonly string[]): RankKey {
  const organizerMatch = ctx.policy.organizerFirst && isOrganizer(member);
  const listed = rank.indexOf(member.provider);
  return {
    organizer: organizerMatch ? 0 : 1,
    rank: listed < 0 ? rank.length : listed,
    organizerMatch,
    listed: listed >= 0,
    // Events: only organizer copies speak for the event; attendee copies that differ are stale
    // copies, not a disagreement. Other kinds: any listed provider is a system of record.
    authoritative: ctx.policy.organizerFirst ? organizerMatch : listed >= 0,
  };
}

function sameRank(a: RankKey, b: RankKey): boolean {
  return a.organizer === b.organizer && a.rank === b.rank;
}

/**
 * The member's own calendar holds the event as its organizer: Google marks that copy with
 * `organizer.self` (https://developers.google.com/calendar/api/v3/reference/events), and the
 * organizer's email is the account's when the account organized it.
 */
export function isOrganizer(member: MergeMember): boolean {
  if (member.kind !== 'event' || !member.organizer) return false;
  if (member.organizer.self === true) return true;
  const email = member.organizer.email?.trim().toLowerCase();
  const account = member.accountEmail?.trim().toLowerCase();
  return Boolean(email) && email === account;
}

function sourceLabel(kind: MergeKind, member: MergeMember, key: RankKey): string {
  if (key.organizerMatch) return "organizer's calendar";
  if (!key.listed) return 'most recent';
  return kind === 'task'
    ? `system of record for tasks (${member.provider})`
    : `preferred provider for ${kind}s (${member.provider})`;
}

function peerWords(key: RankKey, peers: readonly MergeMember[]): string {
  if (key.organizerMatch) return "organizer's copies";
  return `systems of record (${unique(peers.map((m) => m.provider)).join(', ')})`;
}

function conflictOf(
  field: RankedField,
  peers: readonly MergeMember[],
  key: RankKey,
): MergeConflict | undefined {
  if (!(CONFLICT_FIELDS as readonly string[]).includes(field) || peers.length < 2) return undefined;
  const values = peers
    .map((m) => ({
      value: normalized(field, m[field]!),
      itemId: m.id,
      provider: m.provider,
    }))
    .sort((a, b) => compareText(a.itemId, b.itemId));
  if (new Set(values.map((v) => v.value)).size < 2) return undefined;
  return {
    field: field as ConflictField,
    values,
    reason: `${peers.length} ${peerWords(key, peers)} disagree; the most recent is shown`,
  };
}

const TIME_FIELDS: readonly RankedField[] = ['startsAt', 'endsAt', 'dueAt'];

/** Times as one ISO form (so equal instants compare equal), other values as given. */
function normalized(field: RankedField, value: string): string {
  if (!TIME_FIELDS.includes(field)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

function isEmpty(value: string | null): boolean {
  return value === null || value.trim() === '';
}

/** When the member last changed: the provider's time, else ours; unknown sorts oldest. */
function recency(member: MergeMember): number {
  const ms = Date.parse(member.externalUpdatedAt ?? member.updatedAt);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Every member's values, once each: the same value in another case counts once (an email in two
 * spellings), written in its smallest spelling so the result does not depend on member order.
 */
function union(
  members: readonly MergeMember[],
  of: (m: MergeMember) => readonly string[],
): MergedList {
  const byKey = new Map<string, string>();
  const sources: Provenance[] = [];
  for (const member of members) {
    const values = of(member).filter((v) => v.trim() !== '');
    if (values.length > 0) sources.push(provenance(member));
    for (const value of values) {
      const key = value.trim().toLowerCase();
      const seen = byKey.get(key);
      if (seen === undefined || compareText(value, seen) < 0) byKey.set(key, value);
    }
  }
  return {
    value: [...byKey.values()].sort(compareText),
    sources,
    reason:
      sources.length > 1
        ? 'union of every source'
        : sources.length
          ? 'only source'
          : 'empty in every source',
  };
}

function provenance(member: MergeMember): Provenance {
  return { itemId: member.id, provider: member.provider };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Code-unit order: the same everywhere, unlike localeCompare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
