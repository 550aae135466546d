import { isProviderError, type ProviderContext } from '@pdeck/integration-sdk';
import { callSlack, type SlackTokenKind } from './slack.http.js';
import type { SlackMessage, SlackUserInfo } from './slack.types.js';

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const MENTION = /<@([UW][A-Z0-9]{2,20})>/g;

/** Names kept in a conversation's cursor at most (the most recently met). */
export const KEPT_NAMES = 200;

/**
 * Display names of a workspace's users for one sync call: looked up with users.info (Tier 4)
 * the first time an id appears, then kept in this object, which lives only as long as the call
 * (the provider keeps nothing between calls); `known()` goes into the conversation's cursor and
 * comes back as `initial` on the next pass. A lookup that fails leaves the id unnamed: names
 * make text readable, and no message is held back for one.
 */
export class UserNames {
  private readonly names = new Map<string, string | undefined>();

  constructor(
    private readonly ctx: ProviderContext,
    /** users:read is granted to both tokens; the user's is the one that stays this user's. */
    private readonly token: SlackTokenKind,
    initial: Record<string, string> = {},
  ) {
    for (const [id, name] of Object.entries(initial)) {
      if (typeof name === 'string') this.names.set(id, name);
    }
  }

  /** The names resolved so far, the most recently met last, at most KEPT_NAMES. */
  known(): Record<string, string> {
    const named = [...this.names].filter((e): e is [string, string] => e[1] !== undefined);
    return Object.fromEntries(named.slice(-KEPT_NAMES));
  }

  readonly nameOf = (id: string): string | undefined => this.names.get(id);

  /** Resolves the authors and unlabeled mentions of these messages. */
  async learn(messages: readonly SlackMessage[]): Promise<void> {
    const wanted = new Set<string>();
    for (const m of messages) {
      if (m.user && USER_ID.test(m.user)) wanted.add(m.user);
      for (const [, id] of (m.text ?? '').matchAll(MENTION)) wanted.add(id);
    }
    for (const id of wanted) await this.lookUp(id);
  }

  async lookUp(id: string): Promise<string | undefined> {
    if (this.names.has(id)) {
      // Met again: move it to the end, so known() keeps the people who still write here.
      const name = this.names.get(id);
      this.names.delete(id);
      this.names.set(id, name);
      return name;
    }
    let name: string | undefined;
    try {
      const info = await callSlack<SlackUserInfo>(this.ctx, {
        method: 'users.info',
        token: this.token,
        params: { user: id },
      });
      const user = info.user;
      name = user?.profile?.display_name || user?.real_name || user?.name || undefined;
    } catch (error) {
      // A dead grant fails the whole sync anyway; anything else only costs this name.
      if (isProviderError(error) && error.code === 'AUTH_REVOKED') throw error;
    }
    this.names.set(id, name);
    return name;
  }
}
