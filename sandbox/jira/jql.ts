/**
 * The small JQL subset the fake understands, parsed into a tree and evaluated against issues.
 * Search (`/search/jql`) supports:
 * - `assignee = currentUser()`, `assignee = "<accountId>"` (and `!=`), `assignee is EMPTY`
 * - `project = KEY`, `project != KEY`, `project in (A, B)`, `project not in (...)`
 * - `statusCategory = Done` / `!= Done` (also `"To Do"`, `"In Progress"`, `new`, `indeterminate`)
 * - `status = "In Progress"`, `issuetype = Task`, `reporter = ...`, `key = PD-3` (issueKey)
 * - `updated|created >=|>|<=|< "yyyy-MM-dd HH:mm"` / `"yyyy/MM/dd"` ..., in the user's time zone
 *   (https://confluence.atlassian.com/spaces/JIRA052/pages/314448708/__JQL+Date+Time+Formats)
 * - AND / OR / parentheses, `ORDER BY updated|created|key|id ASC|DESC` (comma-separated).
 * Anything else throws JqlError, answered 400 with Jira's `{errorMessages, errors}` body.
 */
export class JqlError extends Error {}

export type Op = '=' | '!=' | '>=' | '>' | '<=' | '<' | 'in' | 'not in' | 'is' | 'is not';
export type Value = { kind: 'string'; value: string } | { kind: 'currentUser' } | { kind: 'empty' };

export type Node =
  | { type: 'and' | 'or'; items: Node[] }
  | { type: 'clause'; field: string; op: Op; values: Value[] };

export interface Query {
  where?: Node;
  orderBy: Array<{ field: string; dir: 'asc' | 'desc' }>;
}

type Tok = { t: 'word' | 'str' | 'op' | 'punct'; v: string };

function tokenize(jql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < jql.length) {
    const c = jql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const end = jql.indexOf(c, i + 1);
      if (end < 0) throw new JqlError(`Error in the JQL Query: unterminated quoted string.`);
      out.push({ t: 'str', v: jql.slice(i + 1, end) });
      i = end + 1;
    } else if ('(),'.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
    } else if ('=!<>~'.includes(c)) {
      const two = jql.slice(i, i + 2);
      const op = ['!=', '>=', '<=', '!~'].includes(two) ? two : c;
      out.push({ t: 'op', v: op });
      i += op.length;
    } else {
      const m = /^[A-Za-z0-9_.\-[\]:@/]+/.exec(jql.slice(i));
      if (!m)
        throw new JqlError(
          `Error in the JQL Query: the character '${c}' is a reserved JQL character.`,
        );
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): Query {
    let where: Node | undefined;
    if (this.toks.length && !this.isWord('order')) where = this.or();
    const orderBy: Query['orderBy'] = [];
    if (this.isWord('order')) {
      this.i++;
      if (!this.isWord('by')) throw this.err("Expecting 'by' after 'order'");
      this.i++;
      do {
        const f = this.next();
        if (!f || f.t !== 'word') throw this.err('Expecting a field name after ORDER BY');
        let dir: 'asc' | 'desc' = 'asc';
        if (this.isWord('asc') || this.isWord('desc')) dir = this.next()!.v.toLowerCase() as 'asc';
        orderBy.push({ field: f.v.toLowerCase(), dir });
      } while (this.eat('punct', ','));
    }
    if (this.i < this.toks.length) throw this.err(`Unexpected '${this.toks[this.i].v}'`);
    if (orderBy.length > 7) throw this.err('ORDER BY takes at most 7 fields');
    return { where, orderBy };
  }

  private or(): Node {
    const items = [this.and()];
    while (this.isWord('or')) {
      this.i++;
      items.push(this.and());
    }
    return items.length === 1 ? items[0] : { type: 'or', items };
  }

  private and(): Node {
    const items = [this.primary()];
    while (this.isWord('and')) {
      this.i++;
      items.push(this.primary());
    }
    return items.length === 1 ? items[0] : { type: 'and', items };
  }

  private primary(): Node {
    if (this.eat('punct', '(')) {
      const node = this.or();
      if (!this.eat('punct', ')')) throw this.err("Expecting ')'");
      return node;
    }
    const field = this.next();
    if (!field || field.t === 'punct' || field.t === 'op') throw this.err('Expecting a field name');
    const op = this.op();
    if (op === 'in' || op === 'not in') {
      if (!this.eat('punct', '(')) throw this.err(`Expecting '(' after '${op}'`);
      const values: Value[] = [];
      do values.push(this.value());
      while (this.eat('punct', ','));
      if (!this.eat('punct', ')')) throw this.err("Expecting ')'");
      return { type: 'clause', field: field.v.toLowerCase(), op, values };
    }
    return { type: 'clause', field: field.v.toLowerCase(), op, values: [this.value()] };
  }

  private op(): Op {
    const t = this.next();
    if (t?.t === 'op') {
      if (['=', '!=', '>=', '>', '<=', '<'].includes(t.v)) return t.v as Op;
      throw this.err(`The operator '${t.v}' is not supported`);
    }
    const w = t?.t === 'word' ? t.v.toLowerCase() : '';
    if (w === 'in') return 'in';
    if (w === 'not' && this.isWord('in')) return (this.i++, 'not in');
    if (w === 'is') return this.isWord('not') ? (this.i++, 'is not') : 'is';
    throw this.err('Expecting an operator');
  }

  private value(): Value {
    const t = this.next();
    if (!t || t.t === 'punct' || t.t === 'op') throw this.err('Expecting a value');
    if (t.t === 'word' && /^(currentuser)$/i.test(t.v) && this.eat('punct', '(')) {
      if (!this.eat('punct', ')')) throw this.err("Expecting ')' after currentUser(");
      return { kind: 'currentUser' };
    }
    if (t.t === 'word' && /^(empty|null)$/i.test(t.v)) return { kind: 'empty' };
    if (t.t === 'word' && this.toks[this.i]?.v === '(')
      throw this.err(`The function '${t.v}' is not supported by this sandbox`);
    return { kind: 'string', value: t.v };
  }

  private next(): Tok | undefined {
    return this.toks[this.i++];
  }
  private isWord(w: string): boolean {
    const t = this.toks[this.i];
    return t?.t === 'word' && t.v.toLowerCase() === w;
  }
  private eat(t: Tok['t'], v: string): boolean {
    const tok = this.toks[this.i];
    if (tok?.t === t && tok.v === v) return (this.i++, true);
    return false;
  }
  private err(msg: string): JqlError {
    return new JqlError(`Error in the JQL Query: ${msg} (at token ${this.i}).`);
  }
}

export function parseJql(jql: string): Query {
  return new Parser(tokenize(jql)).parse();
}

/** What a clause can read from an issue; the fake's issue store implements it. */
export interface JqlSubject {
  key: string;
  projectKey: string;
  assignee?: string;
  reporter?: string;
  status: string;
  statusCategory: 'new' | 'indeterminate' | 'done';
  issuetype: string;
  updated: number;
  created: number;
}

export interface EvalContext {
  currentUser: string;
  /** Epoch ms for a JQL date literal, in the user's (or the site's) time zone. */
  parseDate: (text: string) => number;
}

const SEARCH_FIELDS = new Set([
  'assignee',
  'reporter',
  'project',
  'statuscategory',
  'status',
  'issuetype',
  'type',
  'key',
  'issuekey',
  'updated',
  'created',
]);

const CATEGORY: Record<string, JqlSubject['statusCategory']> = {
  done: 'done',
  'to do': 'new',
  new: 'new',
  'in progress': 'indeterminate',
  indeterminate: 'indeterminate',
};

/** Throws JqlError for fields/operators/values this fake cannot evaluate. */
export function checkSearchable(node: Node | undefined, ctx: EvalContext): void {
  if (!node) return;
  if (node.type !== 'clause') return node.items.forEach((n) => checkSearchable(n, ctx));
  if (!SEARCH_FIELDS.has(node.field))
    throw new JqlError(
      `Field '${node.field}' does not exist or you do not have permission to view it.`,
    );
  const dateField = node.field === 'updated' || node.field === 'created';
  if (dateField !== ['>=', '>', '<=', '<'].includes(node.op) && !(dateField && node.op === '='))
    throw new JqlError(`The operator '${node.op}' is not supported by the '${node.field}' field.`);
  for (const v of node.values) {
    if (dateField && v.kind === 'string') ctx.parseDate(v.value);
    if (node.field === 'statuscategory' && v.kind === 'string' && !CATEGORY[v.value.toLowerCase()])
      throw new JqlError(`The value '${v.value}' does not exist for the field 'statusCategory'.`);
  }
}

export function matches(node: Node | undefined, issue: JqlSubject, ctx: EvalContext): boolean {
  if (!node) return true;
  if (node.type !== 'clause')
    return node.type === 'and'
      ? node.items.every((n) => matches(n, issue, ctx))
      : node.items.some((n) => matches(n, issue, ctx));
  return clauseMatches(node, issue, ctx);
}

function clauseMatches(
  node: Extract<Node, { type: 'clause' }>,
  issue: JqlSubject,
  ctx: EvalContext,
): boolean {
  const actual = read(issue, node.field);
  if (node.field === 'updated' || node.field === 'created') {
    const v = node.values[0];
    const at = v.kind === 'string' ? ctx.parseDate(v.value) : NaN;
    const t = actual as number;
    if (node.op === '>=') return t >= at;
    if (node.op === '>') return t > at;
    if (node.op === '<=') return t <= at;
    if (node.op === '<') return t < at;
    return t === at;
  }
  const wanted = node.values.map((v) => resolve(v, node.field, ctx));
  const hit = wanted.some((w) =>
    w === undefined ? actual === undefined : String(actual ?? '').toLowerCase() === w.toLowerCase(),
  );
  return node.op === '=' || node.op === 'in' || node.op === 'is' ? hit : !hit;
}

function read(issue: JqlSubject, field: string): string | number | undefined {
  switch (field) {
    case 'assignee':
      return issue.assignee;
    case 'reporter':
      return issue.reporter;
    case 'project':
      return issue.projectKey;
    case 'statuscategory':
      return issue.statusCategory;
    case 'status':
      return issue.status;
    case 'issuetype':
    case 'type':
      return issue.issuetype;
    case 'key':
    case 'issuekey':
      return issue.key;
    case 'updated':
      return issue.updated;
    case 'created':
      return issue.created;
    default:
      return undefined;
  }
}

function resolve(v: Value, field: string, ctx: EvalContext): string | undefined {
  if (v.kind === 'empty') return undefined;
  if (v.kind === 'currentUser') return ctx.currentUser;
  if (field === 'statuscategory') return CATEGORY[v.value.toLowerCase()] ?? v.value;
  return v.value;
}

/**
 * The restricted grammar of a dynamic webhook's `jqlFilter`
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-webhooks/): fields
 * issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id];
 * operators =, !=, IN, NOT IN; AND/OR/parentheses; no ORDER BY. Returns the reason or undefined.
 */
export function webhookFilterError(jql: string | undefined): string | undefined {
  if (!jql || !jql.trim()) return 'The JQL filter is required.';
  let q: Query;
  try {
    q = parseJql(jql);
  } catch (err) {
    return (err as Error).message;
  }
  if (q.orderBy.length) return 'ORDER BY is not supported in webhook JQL filters.';
  if (!q.where) return 'The JQL filter is required.';
  const allowed =
    /^(issuekey|project|issuetype|status|assignee|reporter|issue\.property\[.+\].*|cf\[\d+\])$/;
  const walk = (n: Node): string | undefined => {
    if (n.type !== 'clause') return n.items.map(walk).find(Boolean);
    if (!allowed.test(n.field))
      return `The field '${n.field}' is not supported in webhook JQL filters.`;
    if (!['=', '!=', 'in', 'not in'].includes(n.op))
      return `The operator '${n.op.toUpperCase()}' is not supported in webhook JQL filters.`;
    if (n.values.some((v) => v.kind !== 'string'))
      return 'Functions and EMPTY are not supported in webhook JQL filters.';
    return undefined;
  };
  return walk(q.where);
}
