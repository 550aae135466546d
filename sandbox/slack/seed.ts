import type { ConversationKind, MessageInput, SlackData } from './slack-data.js';
import { microsToTs } from './slack-ts.js';

/** Fixed ids of the seeded workspace. */
export const SEED_SLACK = {
  team: { id: 'T0PDECKSBX', name: 'PDeck Sandbox', domain: 'pdeck-sandbox' },
  users: {
    alice: 'U0ALICE001',
    bob: 'U0BOB00002',
    /** A member only: not offered on the consent page. */
    carol: 'U0CAROL003',
    /** The sandbox app's bot user. */
    bot: 'U0PDECKBOT',
  },
  botId: 'B0PDECKBOT',
  /** Who can consent on the consent page (handles). */
  consentingAccounts: ['alice', 'bob'],
  channels: {
    /** Public: alice, bob, carol, bot. Holds the thread, the edit, the bot message, the reaction. */
    general: 'C0GENERAL1',
    /** Public: alice, carol (the bot is not a member). */
    random: 'C0RANDOM02',
    /** Public: bob, bot (alice is not a member). */
    projectX: 'C0PROJECT3',
    /** Private: alice, bot. */
    leads: 'G0PRIVATE4',
    /** Private: bob, carol only. */
    hr: 'G0SECRET05',
    /** Direct messages between alice and bob. */
    dm: 'D0ALICEBOB',
    /** Public, archived: alice. */
    archive: 'C0ARCHIVE6',
  },
} as const;

const H = 3_600_000;
const D = 24 * H;
const U = SEED_SLACK.users;
const C = SEED_SLACK.channels;

/** A seeded message: hours before the anchor, author (a user id or `bot` for a bot_message). */
type Line = [hoursAgo: number, author: string, text: string];

/**
 * The PDeck Sandbox workspace: alice, bob, carol and the app's bot user, seven conversations and
 * their messages. Each conversation has 4-8 visible messages in the 6 days before `anchor` and
 * two older than 10 days (outside a 7-day backfill). #general also has a thread (3 replies, the
 * last one broadcast to the channel), an edited message, a `bot_message`, Slack markup (user and
 * channel mentions, a labelled link, `&amp; &lt; &gt;` escapes), a multi-line text and a `pdeck`
 * reaction by alice.
 */
export function seedSlack(data: SlackData, anchor: number, botAppId: string): void {
  const team = SEED_SLACK.team;
  data.workspaces.push({ ...team, enterprise: null });
  const person = (id: string, name: string, realName: string) =>
    data.users.push({
      id,
      teamId: team.id,
      name,
      realName,
      displayName: name,
      isBot: false,
      deleted: false,
    });
  person(U.alice, 'alice', 'Alice Archer');
  person(U.bob, 'bob', 'Bob Baker');
  person(U.carol, 'carol', 'Carol Chen');
  data.users.push({
    id: U.bot,
    teamId: team.id,
    name: 'pdeck',
    realName: 'PDeck',
    displayName: '',
    isBot: true,
    botId: SEED_SLACK.botId,
    appId: botAppId,
    deleted: false,
  });

  const created = Math.floor((anchor - 90 * D) / 1000);
  const conversation = (
    id: string,
    kind: ConversationKind,
    name: string,
    members: string[],
    extra: { topic?: string; purpose?: string; isArchived?: boolean } = {},
  ) =>
    data.addConversation({
      id,
      teamId: team.id,
      kind,
      name,
      created,
      creator: members[0],
      topic: extra.topic ?? '',
      purpose: extra.purpose ?? '',
      isArchived: extra.isArchived ?? false,
      members,
    });
  conversation(C.general, 'public_channel', 'general', [U.alice, U.bob, U.carol, U.bot], {
    topic: 'Company-wide announcements',
    purpose: 'This channel is for workspace-wide communication.',
  });
  conversation(C.random, 'public_channel', 'random', [U.alice, U.carol], {
    purpose: 'Non-work banter.',
  });
  conversation(C.projectX, 'public_channel', 'project-x', [U.bob, U.bot], {
    topic: 'Project X: milestone 1',
  });
  conversation(C.leads, 'private_channel', 'leads', [U.alice, U.bot]);
  conversation(C.hr, 'private_channel', 'hr', [U.bob, U.carol]);
  conversation(C.dm, 'im', '', [U.alice, U.bob]);
  conversation(C.archive, 'public_channel', 'old-launch', [U.alice], { isArchived: true });

  const tsAt = (hoursAgo: number) => microsToTs(Math.round((anchor - hoursAgo * H) * 1000));
  const post = (
    channel: string,
    [hoursAgo, author, text]: Line,
    extra: Partial<MessageInput> = {},
  ) =>
    data.post(channel, {
      ts: tsAt(hoursAgo),
      text,
      ...(author === 'bot'
        ? { subtype: 'bot_message' as const, botId: SEED_SLACK.botId }
        : { user: author }),
      ...extra,
    });

  post(C.general, [14 * 24, U.alice, 'Welcome to #general, the PDeck sandbox workspace.']);
  post(C.general, [11 * 24, U.bob, 'Reminder: the Q3 planning doc lives in the wiki.']);
  post(C.general, [142, U.alice, 'Morning all :wave: planning at 10.']);
  const spec = post(C.general, [
    120,
    U.bob,
    'Hey <@U0ALICE001>, please read <https://example.com/spec|the spec> before planning.',
  ]);
  data.react(C.general, spec.ts, 'pdeck', U.alice, true);
  const parent = post(C.general, [96, U.alice, 'Release 2.4 checklist: reply here with blockers.']);
  post(C.general, [95, U.bob, 'Exports are done.'], { threadTs: parent.ts });
  post(C.general, [94, U.carol, 'Docs need one more pass.'], { threadTs: parent.ts });
  post(C.general, [93, U.alice, 'All blockers cleared, shipping Thursday.'], {
    threadTs: parent.ts,
    subtype: 'thread_broadcast',
  });
  const moved = post(C.general, [72, U.bob, 'Deploy moved to Wednesday.']);
  data.edit(
    C.general,
    moved.ts,
    'Deploy moved to Thursday &amp; the notes are updated.',
    tsAt(71.75),
  );
  post(C.general, [48, 'bot', 'Daily digest: 3 items synced to PDeck.']);
  post(C.general, [24, U.carol, 'Lunch options today:\n• tacos\n• ramen\n• salad']);
  post(C.general, [
    6,
    U.alice,
    'Q&amp;A at 3pm: 2 &lt; 3 &gt; 1. Ping <@U0BOB00002> or ask in <#C0RANDOM02|random>.',
  ]);

  const lines: Array<[string, Line[]]> = [
    [
      C.random,
      [
        [13 * 24, U.carol, 'Anyone up for a board game night?'],
        [12 * 24, U.alice, 'Count me in.'],
        [130, U.carol, 'The coffee machine is fixed.'],
        [80, U.alice, 'Photos from the offsite: <https://example.com/photos|album>'],
        [30, U.carol, 'Who left the plant in room 2?'],
        [3, U.alice, "It's mine, sorry!"],
      ],
    ],
    [
      C.projectX,
      [
        [15 * 24, U.bob, 'Kick-off for project X.'],
        [11 * 24, U.bob, 'Repository is set up.'],
        [140, U.bob, 'Milestone 1 scope is frozen.'],
        [100, 'bot', 'Build #412 passed.'],
        [50, U.bob, 'Benchmarks: p95 down to 120 ms.'],
        [10, U.bob, 'Demo on Friday.'],
      ],
    ],
    [
      C.leads,
      [
        [20 * 24, U.alice, 'Leads channel: private.'],
        [16 * 24, U.alice, 'Budget review next month.'],
        [110, U.alice, 'Hiring plan draft attached.'],
        [70, U.alice, 'Interview loop for the backend role is set.'],
        [40, 'bot', 'Reminder: 1:1s this week.'],
        [2, U.alice, 'Offer accepted!'],
      ],
    ],
    [
      C.hr,
      [
        [18 * 24, U.carol, 'The holiday calendar for next year is out.'],
        [11 * 24, U.bob, 'Thanks!'],
        [125, U.carol, 'Please submit expenses by Friday.'],
        [90, U.bob, 'Done.'],
        [60, U.carol, 'Benefits enrollment opens Monday.'],
        [12, U.bob, 'Noted.'],
      ],
    ],
    [
      C.dm,
      [
        [17 * 24, U.alice, 'Hi Bob!'],
        [12 * 24, U.bob, 'Hi Alice, welcome aboard.'],
        [115, U.alice, "Can you review my PR?\nIt's the one about exports."],
        [85, U.bob, 'Sure, after lunch.'],
        [35, U.bob, 'Left two comments.'],
        [1, U.alice, 'Thanks, fixed both.'],
      ],
    ],
    [
      C.archive,
      [
        [30 * 24, U.alice, 'Launch checklist.'],
        [25 * 24, U.alice, 'Launched!'],
        [140, U.alice, 'Archiving this channel soon.'],
        [120, U.alice, 'Final notes copied to the wiki.'],
        [100, U.alice, 'Last call for comments.'],
        [90, U.alice, 'Archived.'],
      ],
    ],
  ];
  for (const [channel, list] of lines) for (const line of list) post(channel, line);
}
