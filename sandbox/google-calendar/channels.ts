import type { PushSender } from '@pdeck/integration-sdk/sandbox';

export interface Channel {
  id: string;
  resourceId: string;
  resourceUri: string;
  token?: string;
  address: string;
  /** Unix ms. */
  expiration: number;
  /** The calendar's real id (`primary` resolved), so pushes follow data, not spelling. */
  calendarId: string;
  account: string;
  clientId: string;
  messageNumber: number;
}

export type ResourceState = 'sync' | 'exists' | 'not_exists';

/** Google's push User-Agent ("APIs-Google", per the push notifications guide). */
const USER_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';

/**
 * events.watch channels and their notifications. A push is a POST with no body and the
 * X-Goog-* headers; the message number starts at 1 (the `sync` message) and grows per channel.
 */
export class ChannelRegistry {
  private readonly channels = new Map<string, Channel>();
  private sent = 0;
  /** Every channel token a client registered (stopped channels included), for leak checks. */
  private readonly tokensSeen = new Set<string>();
  private readonly byState: Record<ResourceState, number> = { sync: 0, exists: 0, not_exists: 0 };

  constructor(
    private readonly sender: PushSender,
    private readonly now: () => number,
  ) {}

  has(id: string): boolean {
    return this.channels.has(id);
  }

  get(id: string): Channel | undefined {
    return this.channels.get(id);
  }

  /** Registers the channel and sends its `sync` message before the caller answers, as Google may. */
  open(channel: Omit<Channel, 'messageNumber'>): Channel {
    const created: Channel = { ...channel, messageNumber: 0 };
    if (created.token) this.tokensSeen.add(created.token);
    this.channels.set(created.id, created);
    this.push(created, 'sync');
    return created;
  }

  /** Stops a channel; false when the id is unknown or the resourceId does not match. */
  stop(id: string, resourceId: string, clientId: string): boolean {
    const channel = this.channels.get(id);
    if (!channel || channel.resourceId !== resourceId || channel.clientId !== clientId)
      return false;
    this.channels.delete(id);
    return true;
  }

  /** Notifies every live channel watching the calendar; expired channels are dropped silently. */
  notify(calendarId: string, state: ResourceState = 'exists'): number {
    let count = 0;
    for (const channel of this.active()) {
      if (channel.calendarId !== calendarId) continue;
      this.push(channel, state);
      count += 1;
    }
    return count;
  }

  push(channel: Channel, state: ResourceState): void {
    channel.messageNumber += 1;
    this.sent += 1;
    this.byState[state] += 1;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; utf-8',
      'User-Agent': USER_AGENT,
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'X-Goog-Message-Number': String(channel.messageNumber),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-State': state,
      'X-Goog-Resource-URI': channel.resourceUri,
    };
    if (channel.token !== undefined) headers['X-Goog-Channel-Token'] = channel.token;
    this.sender.send(channel.address, headers);
  }

  /** The verification tokens clients set on their channels (a client secret, like a signing key). */
  tokens(): string[] {
    return [...this.tokensSeen];
  }

  active(): Channel[] {
    const now = this.now();
    for (const [id, channel] of this.channels)
      if (channel.expiration <= now) this.channels.delete(id);
    return [...this.channels.values()];
  }

  stats(): { active: number; pushes: number; byState: Record<ResourceState, number> } {
    return { active: this.active().length, pushes: this.sent, byState: { ...this.byState } };
  }
}
