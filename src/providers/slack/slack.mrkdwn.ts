/** Looks up a user's display name by id; undefined when unknown. */
export type NameOf = (userId: string) => string | undefined;

/** `<...>` tokens: mentions, channels, special mentions, links (no `<` or `>` inside). */
const TOKEN = /<([^<>\s][^<>]*)>/g;
const MAX_TITLE = 200;

/**
 * Slack message text (mrkdwn, https://docs.slack.dev/messaging/formatting-message-text) as
 * plain text a person reads: `<@U123>` -> `@Alice` (or the token's own label, or the id),
 * `<#C123|general>` -> `#general`, `<!here>` -> `@here`, `<!subteam^S1|@team>` -> `@team`,
 * `<!date^...|fallback>` -> the fallback, `<https://x|the spec>` -> `the spec (https://x)`,
 * `<https://x>` -> `https://x`; then `&lt;`, `&gt;`, `&amp;` unescaped (last, so an escaped
 * `&lt;@U1&gt;` stays literal text). Emphasis markers (`*bold*`, `_italic_`) are left as typed:
 * stripping them would also eat underscores and asterisks that are content.
 */
export function mrkdwnToText(text: string, nameOf: NameOf = () => undefined): string {
  const rendered = text.replace(TOKEN, (_match, inner: string) => renderToken(inner, nameOf));
  return rendered.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function renderToken(inner: string, nameOf: NameOf): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : inner.slice(bar + 1);
  switch (target[0]) {
    case '@': {
      const id = target.slice(1);
      return `@${nameOf(id) ?? label ?? id}`;
    }
    case '#':
      return `#${label ?? target.slice(1)}`;
    case '!': {
      if (label) return label.startsWith('@') || target.startsWith('!date') ? label : `@${label}`;
      const special = target.slice(1).split('^')[0];
      return `@${special}`;
    }
    default:
      // A link: `mailto:a@b|a@b` and `https://x|https://x` carry the target as label too.
      if (!label || label === target || `mailto:${label}` === target) {
        return target.replace(/^mailto:/, '');
      }
      return `${label} (${target})`;
  }
}

/** The first non-empty line, at most 200 characters (an ellipsis marks a cut). */
export function titleOf(text: string): string | null {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!line) return null;
  const chars = [...line];
  return chars.length > MAX_TITLE ? `${chars.slice(0, MAX_TITLE - 1).join('')}…` : line;
}
