/** The connection settings Slack reads, with their defaults. */
export interface SlackSettings {
  /** How many days of history a full pass reads per conversation. */
  backfillDays: number;
  /** The reaction (name without colons) that marks a message as a task candidate. */
  taskEmoji: string;
  /** Set by the service at connect (auth.test `url`), for permalinks; not user-editable. */
  workspaceUrl: string | null;
  /** Set by the service at connect: which ids a tokens_revoked event must name to concern us. */
  botUserId: string | null;
  authedUserId: string | null;
}

export const DEFAULT_BACKFILL_DAYS = 7;
export const MAX_BACKFILL_DAYS = 90;
export const DEFAULT_TASK_EMOJI = 'pdeck';
/** Keys the service sets itself; a settings patch may not change them. */
export const SERVICE_KEYS = ['workspaceUrl', 'botUserId', 'authedUserId'] as const;
const EMOJI = /^[a-z0-9_+'-]{1,100}$/;

export function settingsOf(settings: Record<string, unknown> = {}): SlackSettings {
  const days = settings.backfillDays;
  const emoji = settings.taskEmoji;
  const text = (key: string) =>
    typeof settings[key] === 'string' ? (settings[key] as string) : null;
  return {
    backfillDays:
      Number.isInteger(days) && (days as number) >= 1 && (days as number) <= MAX_BACKFILL_DAYS
        ? (days as number)
        : DEFAULT_BACKFILL_DAYS,
    taskEmoji: typeof emoji === 'string' && EMOJI.test(emoji) ? emoji : DEFAULT_TASK_EMOJI,
    workspaceUrl: text('workspaceUrl'),
    botUserId: text('botUserId'),
    authedUserId: text('authedUserId'),
  };
}

/** PATCH /v1/connections/:id/settings: the problems in words, [] when acceptable. */
export function settingsProblems(patch: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'backfillDays') {
      if (
        !Number.isInteger(value) ||
        (value as number) < 1 ||
        (value as number) > MAX_BACKFILL_DAYS
      )
        problems.push(`backfillDays must be an integer from 1 to ${MAX_BACKFILL_DAYS}`);
    } else if (key === 'taskEmoji') {
      if (typeof value !== 'string' || !EMOJI.test(value))
        problems.push(
          "taskEmoji must be a reaction name without colons, e.g. 'pdeck' or 'white_check_mark'",
        );
    } else if ((SERVICE_KEYS as readonly string[]).includes(key)) {
      problems.push(`${key} is set by the service and cannot be changed`);
    } else {
      problems.push(`${key} is not a Slack setting (allowed: backfillDays, taskEmoji)`);
    }
  }
  return problems;
}
