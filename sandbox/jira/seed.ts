import type { IssueInput, JiraData } from './jira-data.js';

/** Fixed cloud ids of the seeded sites. */
export const SEED_SITES = {
  /** Alice's Confluence-only site: listed first by accessible-resources, refused by /ex/jira. */
  wiki: '0f1e2d3c-4b5a-4697-8877-665544332211',
  /** Alice's main Jira site (Europe/Berlin): projects PD and OPS. */
  pdeck: '1324a887-45db-1bf4-1e99-ef0ff456d421',
  /** Alice's second Jira site (America/New_York): project ACME. */
  acme: '2a3b4c5d-6e7f-4081-9203-a4b5c6d7e8f9',
  /** Bob's only Jira site (UTC): project LAB. */
  labs: '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b',
} as const;

const adf = (...content: unknown[]) => ({ type: 'doc', version: 1, content });
const p = (...content: unknown[]) => ({ type: 'paragraph', content });
const text = (t: string, marks?: unknown[]) =>
  marks ? { type: 'text', text: t, marks } : { type: 'text', text: t };
const link = (t: string, href: string) => text(t, [{ type: 'link', attrs: { href } }]);
const bullets = (...items: string[]) => ({
  type: 'bulletList',
  content: items.map((i) => ({ type: 'listItem', content: [p(text(i))] })),
});
const mention = (id: string, name: string) => ({
  type: 'mention',
  attrs: { id, text: `@${name}` },
});

/**
 * Accounts alice (a Confluence site and two Jira sites) and bob (one Jira site; assignee and
 * reporter of some of Alice's issues), projects and ~20 issues. `updated` times fall in the days before `anchor`.
 */
export function seedJira(data: JiraData, anchor: number): void {
  data.accounts.push(
    {
      handle: 'alice',
      accountId: '5b10ac8d82e05b22cc7d4ef5',
      displayName: 'Alice Example',
      emailAddress: 'alice@example.com',
      timeZone: 'Europe/Berlin',
    },
    {
      handle: 'bob',
      accountId: '5b10a2844c20165700ede21g',
      displayName: 'Bob Builder',
      emailAddress: 'bob@example.com',
      timeZone: 'UTC',
    },
  );
  const alice = data.accounts[0].accountId;
  const bob = data.accounts[1].accountId;
  data.addSite(
    {
      id: SEED_SITES.wiki,
      name: 'pdeck-wiki',
      url: 'https://pdeck-wiki.atlassian.net',
      product: 'confluence',
      timeZone: 'Europe/Berlin',
    },
    ['alice'],
  );
  data.addSite(
    {
      id: SEED_SITES.pdeck,
      name: 'pdeck',
      url: 'https://pdeck.atlassian.net',
      product: 'jira',
      timeZone: 'Europe/Berlin',
    },
    // Bob is a colleague on Alice's issues here but can't open the site with his own token.
    ['alice'],
  );
  data.addSite(
    {
      id: SEED_SITES.acme,
      name: 'acme-sandbox',
      url: 'https://acme-sandbox.atlassian.net',
      product: 'jira',
      timeZone: 'America/New_York',
    },
    ['alice'],
  );
  data.addSite(
    {
      id: SEED_SITES.labs,
      name: 'bob-labs',
      url: 'https://bob-labs.atlassian.net',
      product: 'jira',
      timeZone: 'UTC',
    },
    ['bob'],
  );
  data.addProject(SEED_SITES.pdeck, 'PD', 'PDeck');
  data.addProject(SEED_SITES.pdeck, 'OPS', 'Operations');
  data.addProject(SEED_SITES.acme, 'ACME', 'Acme Website');
  data.addProject(SEED_SITES.labs, 'LAB', 'Labs');

  const H = 3_600_000;
  const day = (offset: number) => new Date(anchor + offset * 24 * H).toISOString().slice(0, 10);
  const rich = adf(
    p(text('Steps: open the deck, press '), text('Save', [{ type: 'strong' }]), text('.')),
    bullets('Chrome 131', 'Firefox 133'),
    p(
      text('See '),
      link('the runbook', 'https://pdeck.atlassian.net/wiki/runbook'),
      text(', cc '),
      mention(bob, 'Bob Builder'),
    ),
  );
  const issues: Array<[string, IssueInput, number]> = [
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Checkout button unresponsive',
        description: rich,
        status: 'In Progress',
        assignee: alice,
        reporter: bob,
        duedate: day(3),
        priority: 'High',
        issuetype: 'Bug',
        labels: ['frontend'],
      },
      100,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Write release notes for 2.4',
        description: adf(p(text('Draft in the wiki.'))),
        assignee: alice,
        reporter: alice,
        duedate: day(7),
      },
      90,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Update privacy policy link',
        status: 'Done',
        assignee: alice,
        reporter: bob,
      },
      80,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Slide thumbnails flicker on resize',
        status: 'In Review',
        assignee: alice,
        reporter: bob,
        issuetype: 'Bug',
        priority: 'Medium',
      },
      70,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Export deck as PDF',
        description: adf(
          p(text('Users asked for PDF export.')),
          bullets('A4 and Letter', 'Speaker notes optional'),
        ),
        assignee: bob,
        reporter: alice,
        issuetype: 'Story',
      },
      60,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Keyboard shortcut cheat sheet',
        assignee: alice,
        reporter: alice,
        duedate: day(-2),
        labels: ['docs'],
      },
      50,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Unassigned: triage crash reports',
        reporter: bob,
        priority: 'Highest',
      },
      40,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'PD',
        summary: 'Retire the legacy editor',
        status: 'Done',
        assignee: alice,
        reporter: alice,
        duedate: day(-10),
      },
      30,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'OPS',
        summary: 'Rotate TLS certificates',
        assignee: alice,
        reporter: bob,
        duedate: day(14),
        priority: 'High',
      },
      26,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'OPS',
        summary: 'Postgres minor upgrade',
        status: 'In Progress',
        assignee: alice,
        reporter: alice,
      },
      22,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'OPS',
        summary: 'Clean up old backups',
        status: 'Done',
        assignee: bob,
        reporter: alice,
      },
      18,
    ],
    [
      SEED_SITES.pdeck,
      {
        project: 'OPS',
        summary: 'On-call handbook review',
        assignee: alice,
        reporter: bob,
        description: adf(p(text('Ping '), mention(alice, 'Alice Example'), text(' when done.'))),
      },
      14,
    ],
    [
      SEED_SITES.acme,
      {
        project: 'ACME',
        summary: 'Homepage hero image',
        assignee: alice,
        reporter: alice,
        duedate: day(1),
      },
      95,
    ],
    [
      SEED_SITES.acme,
      {
        project: 'ACME',
        summary: 'Fix broken footer links',
        status: 'Done',
        assignee: alice,
        reporter: alice,
        issuetype: 'Bug',
      },
      75,
    ],
    [
      SEED_SITES.acme,
      {
        project: 'ACME',
        summary: 'Add cookie banner',
        status: 'In Progress',
        assignee: alice,
        reporter: alice,
        duedate: day(5),
        labels: ['legal'],
      },
      55,
    ],
    [
      SEED_SITES.acme,
      { project: 'ACME', summary: 'Blog: migrate comments', assignee: alice, reporter: alice },
      35,
    ],
    [
      SEED_SITES.acme,
      {
        project: 'ACME',
        summary: 'Contact form spam',
        status: 'Done',
        assignee: alice,
        reporter: alice,
        issuetype: 'Bug',
      },
      12,
    ],
    [
      SEED_SITES.acme,
      {
        project: 'ACME',
        summary: 'Accessibility audit',
        assignee: alice,
        reporter: alice,
        duedate: day(21),
        issuetype: 'Story',
      },
      6,
    ],
    [
      SEED_SITES.labs,
      { project: 'LAB', summary: 'Prototype voice notes', assignee: bob, reporter: bob },
      48,
    ],
    [
      SEED_SITES.labs,
      {
        project: 'LAB',
        summary: 'Benchmark renderer',
        status: 'Done',
        assignee: bob,
        reporter: bob,
      },
      24,
    ],
    [
      SEED_SITES.labs,
      {
        project: 'LAB',
        summary: 'Offline mode spike',
        status: 'In Progress',
        assignee: bob,
        reporter: bob,
        duedate: day(4),
      },
      8,
    ],
  ];
  for (const [cloudId, input, hoursAgo] of issues) {
    const at = anchor - hoursAgo * H;
    data.create(cloudId, input, at);
  }
}
