import { describe, expect, it } from 'vitest';
import { mrkdwnToText, titleOf } from './slack.mrkdwn.js';

const names: Record<string, string> = { U0BOB00002: 'Bob Baker' };
const nameOf = (id: string) => names[id];

describe('mrkdwn to plain text', () => {
  it('renders user mentions with the known name, else the label, else the id', () => {
    expect(mrkdwnToText('ping <@U0BOB00002> and <@U9|carol> and <@U8>', nameOf)).toBe(
      'ping @Bob Baker and @carol and @U8',
    );
  });

  it('renders channels, special mentions, user groups and dates', () => {
    expect(mrkdwnToText('see <#C0RANDOM02|random> <#C1>')).toBe('see #random #C1');
    expect(mrkdwnToText('<!here> <!channel> <!everyone>')).toBe('@here @channel @everyone');
    expect(mrkdwnToText('<!subteam^S012|@design> review')).toBe('@design review');
    expect(mrkdwnToText('due <!date^1392734382^{date_short}|Feb 18, 2014>')).toBe(
      'due Feb 18, 2014',
    );
  });

  it('renders links with their label and target, bare links and mailto as the address', () => {
    expect(mrkdwnToText('read <https://example.com/spec|the spec>')).toBe(
      'read the spec (https://example.com/spec)',
    );
    expect(mrkdwnToText('<https://example.com>')).toBe('https://example.com');
    expect(mrkdwnToText('<mailto:ana@example.com|ana@example.com>')).toBe('ana@example.com');
  });

  it('unescapes &amp; &lt; &gt; after the tokens, so escaped brackets stay text', () => {
    expect(mrkdwnToText('a &amp; b &lt; c &gt; d')).toBe('a & b < c > d');
    expect(mrkdwnToText('&lt;@U0BOB00002&gt;', nameOf)).toBe('<@U0BOB00002>');
    expect(mrkdwnToText('&amp;lt;')).toBe('&lt;');
  });
});

describe('titleOf', () => {
  it('is the first non-empty line, trimmed', () => {
    expect(titleOf('\n  Deploy finished  \nsecond line')).toBe('Deploy finished');
    expect(titleOf('   \n ')).toBeNull();
  });

  it('cuts at 200 characters without splitting a surrogate pair', () => {
    const long = '😀'.repeat(250);
    const title = titleOf(long)!;
    expect([...title]).toHaveLength(200);
    expect(title.endsWith('…')).toBe(true);
    expect(title).not.toMatch(/[\ud800-\udbff]…$/);
  });
});
