import { SandboxNotFoundError, wallToUtc } from '@pdeck/integration-sdk/sandbox';
import type { JqlSubject } from './jql.js';

export interface JiraAccount {
  /** Short handle used by tests and the consent page (`alice`). */
  handle: string;
  accountId: string;
  displayName: string;
  emailAddress: string;
  timeZone: string;
}

export interface SiteRec {
  /** The cloudId. */
  id: string;
  name: string;
  url: string;
  product: 'jira' | 'confluence';
  /** JQL date literals are read in this zone with `jqlDateZone: 'site'`. */
  timeZone: string;
  members: string[];
  nextIssueId: number;
}

export interface ProjectRec {
  id: string;
  key: string;
  name: string;
  cloudId: string;
  nextNumber: number;
}

export type StatusName = 'To Do' | 'In Progress' | 'In Review' | 'Done';

export interface IssueRec {
  id: string;
  key: string;
  cloudId: string;
  projectKey: string;
  summary: string;
  /** Atlassian Document Format, or null. */
  description: unknown;
  status: StatusName;
  duedate: string | null;
  assignee?: string;
  reporter?: string;
  labels: string[];
  priority: 'Highest' | 'High' | 'Medium' | 'Low' | 'Lowest';
  issuetype: 'Task' | 'Bug' | 'Story';
  created: number;
  updated: number;
  resolutiondate: number | null;
}

export interface IssueInput {
  project: string;
  summary: string;
  description?: unknown;
  status?: StatusName;
  duedate?: string | null;
  /** Account handle or accountId. */
  assignee?: string | null;
  reporter?: string;
  labels?: string[];
  priority?: IssueRec['priority'];
  issuetype?: IssueRec['issuetype'];
}

export type IssuePatch = Partial<Omit<IssueInput, 'project'>>;

const STATUS: Record<StatusName, { id: string; category: JqlSubject['statusCategory'] }> = {
  'To Do': { id: '10000', category: 'new' },
  'In Progress': { id: '3', category: 'indeterminate' },
  'In Review': { id: '10001', category: 'indeterminate' },
  Done: { id: '10002', category: 'done' },
};
const CATEGORY_VIEW = {
  new: { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' },
  indeterminate: { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' },
  done: { id: 3, key: 'done', name: 'Done', colorName: 'green' },
};
const PRIORITY_IDS = { Highest: '1', High: '2', Medium: '3', Low: '4', Lowest: '5' };
const TYPE_IDS = { Task: '10001', Bug: '10004', Story: '10003' };

export function statusCategory(status: StatusName): JqlSubject['statusCategory'] {
  return STATUS[status].category;
}

/** Sites, accounts, projects and issues of the fake, keyed for the API routes. */
export class JiraData {
  readonly accounts: JiraAccount[] = [];
  readonly sites: SiteRec[] = [];
  readonly projects = new Map<string, ProjectRec>();
  /** `${cloudId}/${key}` -> issue. */
  readonly issues = new Map<string, IssueRec>();

  constructor(private readonly now: () => number) {}

  account(handleOrId: string): JiraAccount {
    const a = this.accounts.find((x) => x.handle === handleOrId || x.accountId === handleOrId);
    if (!a) throw new SandboxNotFoundError(`unknown account ${handleOrId}`);
    return a;
  }

  site(cloudId: string): SiteRec | undefined {
    return this.sites.find((s) => s.id === cloudId);
  }

  addSite(site: Omit<SiteRec, 'nextIssueId' | 'members'>, members: string[]): SiteRec {
    const rec = {
      ...site,
      members: members.map((m) => this.account(m).accountId),
      nextIssueId: 10000,
    };
    this.sites.push(rec);
    return rec;
  }

  addProject(cloudId: string, key: string, name: string): ProjectRec {
    const rec = { id: String(10000 + this.projects.size), key, name, cloudId, nextNumber: 1 };
    this.projects.set(`${cloudId}/${key}`, rec);
    return rec;
  }

  project(cloudId: string, key: string): ProjectRec {
    const p = this.projects.get(`${cloudId}/${key}`);
    if (!p) throw new SandboxNotFoundError(`unknown project ${key} on ${cloudId}`);
    return p;
  }

  issue(cloudId: string, key: string): IssueRec {
    const i = this.issues.get(`${cloudId}/${key}`);
    if (!i) throw new SandboxNotFoundError(`unknown issue ${key} on ${cloudId}`);
    return i;
  }

  siteIssues(cloudId: string): IssueRec[] {
    return [...this.issues.values()].filter((i) => i.cloudId === cloudId);
  }

  create(cloudId: string, input: IssueInput, at = this.now()): IssueRec {
    const site = this.site(cloudId);
    if (!site) throw new SandboxNotFoundError(`unknown site ${cloudId}`);
    const project = this.project(cloudId, input.project);
    const status = input.status ?? 'To Do';
    const rec: IssueRec = {
      id: String(site.nextIssueId++),
      key: `${project.key}-${project.nextNumber++}`,
      cloudId,
      projectKey: project.key,
      summary: input.summary,
      description: input.description ?? null,
      status,
      duedate: input.duedate ?? null,
      assignee: input.assignee ? this.account(input.assignee).accountId : undefined,
      reporter: input.reporter ? this.account(input.reporter).accountId : undefined,
      labels: input.labels ?? [],
      priority: input.priority ?? 'Medium',
      issuetype: input.issuetype ?? 'Task',
      created: at,
      updated: at,
      resolutiondate: status === 'Done' ? at : null,
    };
    this.issues.set(`${cloudId}/${rec.key}`, rec);
    return rec;
  }

  /** Applies the patch; returns the changelog items for the fields that changed. */
  update(
    cloudId: string,
    key: string,
    patch: IssuePatch,
  ): { issue: IssueRec; items: ChangeItem[] } {
    const issue = this.issue(cloudId, key);
    const items: ChangeItem[] = [];
    const at = Math.max(this.now(), issue.updated + 1);
    if (patch.summary !== undefined && patch.summary !== issue.summary) {
      items.push(change('summary', issue.summary, patch.summary));
      issue.summary = patch.summary;
    }
    if (patch.description !== undefined) {
      items.push(change('description', null, null));
      issue.description = patch.description;
    }
    if (patch.status !== undefined && patch.status !== issue.status) {
      items.push({
        field: 'status',
        fieldtype: 'jira',
        fieldId: 'status',
        from: STATUS[issue.status].id,
        fromString: issue.status,
        to: STATUS[patch.status].id,
        toString: patch.status,
      });
      if (patch.status === 'Done') issue.resolutiondate = at;
      else if (issue.status === 'Done') issue.resolutiondate = null;
      issue.status = patch.status;
    }
    if (patch.duedate !== undefined && patch.duedate !== issue.duedate) {
      items.push(change('duedate', issue.duedate, patch.duedate));
      issue.duedate = patch.duedate;
    }
    if (patch.assignee !== undefined) {
      const next = patch.assignee ? this.account(patch.assignee).accountId : undefined;
      if (next !== issue.assignee) {
        items.push({
          field: 'assignee',
          fieldtype: 'jira',
          fieldId: 'assignee',
          from: issue.assignee ?? null,
          fromString: issue.assignee ? this.account(issue.assignee).displayName : null,
          to: next ?? null,
          toString: next ? this.account(next).displayName : null,
        });
        issue.assignee = next;
      }
    }
    if (patch.labels !== undefined) {
      items.push(change('labels', issue.labels.join(' '), patch.labels.join(' ')));
      issue.labels = patch.labels;
    }
    if (patch.priority !== undefined && patch.priority !== issue.priority) {
      items.push(change('priority', issue.priority, patch.priority));
      issue.priority = patch.priority;
    }
    issue.updated = at;
    return { issue, items };
  }

  remove(cloudId: string, key: string): IssueRec {
    const issue = this.issue(cloudId, key);
    this.issues.delete(`${cloudId}/${key}`);
    return issue;
  }

  subject(issue: IssueRec): JqlSubject {
    return {
      key: issue.key,
      projectKey: issue.projectKey,
      assignee: issue.assignee,
      reporter: issue.reporter,
      status: issue.status,
      statusCategory: STATUS[issue.status].category,
      issuetype: issue.issuetype,
      updated: issue.updated,
      created: issue.created,
    };
  }

  /** The issue's JSON: `{id, key, self, fields}` with every field (callers pick). */
  view(
    issue: IssueRec,
    apiBase: string,
  ): { id: string; key: string; self: string; fields: Record<string, unknown> } {
    const project = this.project(issue.cloudId, issue.projectKey);
    const user = (id?: string) => {
      if (!id) return null;
      const a = this.account(id);
      return {
        self: `${apiBase}/rest/api/3/user?accountId=${a.accountId}`,
        accountId: a.accountId,
        emailAddress: a.emailAddress,
        displayName: a.displayName,
        active: true,
        timeZone: a.timeZone,
        accountType: 'atlassian',
      };
    };
    const s = STATUS[issue.status];
    return {
      id: issue.id,
      key: issue.key,
      self: `${apiBase}/rest/api/3/issue/${issue.id}`,
      fields: {
        summary: issue.summary,
        description: issue.description,
        status: {
          self: `${apiBase}/rest/api/3/status/${s.id}`,
          id: s.id,
          name: issue.status,
          statusCategory: CATEGORY_VIEW[s.category],
        },
        duedate: issue.duedate,
        assignee: user(issue.assignee),
        reporter: user(issue.reporter),
        labels: issue.labels,
        priority: { id: PRIORITY_IDS[issue.priority], name: issue.priority },
        issuetype: { id: TYPE_IDS[issue.issuetype], name: issue.issuetype, subtask: false },
        project: {
          self: `${apiBase}/rest/api/3/project/${project.id}`,
          id: project.id,
          key: project.key,
          name: project.name,
          projectTypeKey: 'software',
        },
        created: jiraTime(issue.created),
        updated: jiraTime(issue.updated),
        resolutiondate: issue.resolutiondate === null ? null : jiraTime(issue.resolutiondate),
      },
    };
  }
}

export interface ChangeItem {
  field: string;
  fieldtype: 'jira';
  fieldId: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

function change(field: string, from: string | null, to: string | null): ChangeItem {
  return {
    field,
    fieldtype: 'jira',
    fieldId: field,
    from: null,
    fromString: from,
    to: null,
    toString: to,
  };
}

/** Jira's timestamp format: `2026-03-04T10:21:33.512+0000` (UTC here). */
export function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/**
 * A JQL date literal as epoch ms: `yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm`, `yyyy-MM-dd`,
 * `yyyy/MM/dd` in `timeZone`, or a relative `-5m`/`-2h`/`-1d`/`-1w` from now.
 */
export function parseJqlDate(text: string, timeZone: string, now: number): number {
  const rel = /^([-+]?)(\d+)([mhdw])$/.exec(text.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[3] as 'm'];
    return now + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * unit;
  }
  const m = /^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$/.exec(text.trim());
  if (!m) {
    throw new Error(
      `Date value '${text}' for field is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`,
    );
  }
  return wallToUtc(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), 0, timeZone);
}
