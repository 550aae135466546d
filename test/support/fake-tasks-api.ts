import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTask {
  id: string;
  listId: string;
  title: string;
  version: number;
  deleted: boolean;
}

interface Fault {
  status: number;
  headers?: Record<string, string>;
  /** Only requests whose path contains this string fail. */
  pathIncludes?: string;
  /** How many matching requests to answer normally before this fault fires (default 0). */
  skip?: number;
}

/** One request the fake answered, in arrival order. */
export interface ServedRequest {
  path: string;
  /** `pageToken` and `syncToken` of the query, null when absent. */
  pageToken: string | null;
  syncToken: string | null;
  at: number;
  status: number;
  /** Answered by an injected fault, not by the API itself. */
  faulted: boolean;
}

/** The item offset a page token stands for (0 for the first page, which has none). */
export const pageOffset = (pageToken: string | null): number =>
  pageToken === null ? 0 : Number(pageToken.split('.')[0]);

/**
 * A small paged, delta-capable task API over real HTTP, in the shape of Google's events.list:
 * pageToken paging, a sync token on the last page, deltas with deletions, 410 for a stale sync
 * token. Faults can be queued to exercise the engine's error policy.
 */
export class FakeTasksApi {
  readonly tasks = new Map<string, FakeTask>();
  readonly lists = [
    { id: 'list-1', name: 'Inbox' },
    { id: 'list-2', name: 'Work' },
  ];
  readonly requests: ServedRequest[] = [];
  /** Queued faults; each fires once (after its `skip`), then leaves the queue. */
  faults: Fault[] = [];
  pageSize = 50;
  /** Sync tokens below this are answered 410 Gone. */
  minValidSyncToken = 0;
  /** While set, every request waits for it before being answered (a sync held mid-run). */
  hold?: Promise<void>;
  /** Requests received so far, answered or still held. */
  received = 0;
  private clock = 0;
  private server?: http.Server;
  origin = '';

  seed(perList: number): void {
    for (const list of this.lists) {
      for (let i = 0; i < perList; i++)
        this.upsert(list.id, `${list.id}-t${i}`, `Task ${i} of ${list.name}`);
    }
  }

  upsert(listId: string, id: string, title: string): FakeTask {
    const task = { id, listId, title, version: ++this.clock, deleted: false };
    this.tasks.set(id, task);
    return task;
  }

  remove(id: string): void {
    const task = this.tasks.get(id)!;
    this.tasks.set(id, { ...task, deleted: true, version: ++this.clock });
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.received += 1;
    if (this.hold) void this.hold.then(() => this.answer(req, res));
    else this.answer(req, res);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const faultIndex = this.faults.findIndex(
      (f) => !f.pathIncludes || url.pathname.includes(f.pathIncludes),
    );
    const fault = this.faults[faultIndex];
    if (fault?.skip) {
      fault.skip -= 1;
    } else if (fault) {
      this.faults.splice(faultIndex, 1);
      return this.send(res, url, fault.status, { error: 'injected' }, fault.headers, true);
    }
    if (req.headers.authorization !== 'Bearer tasks-token')
      return this.send(res, url, 401, { error: 'unauthorized' });
    if (url.pathname === '/lists') return this.send(res, url, 200, { items: this.lists });
    const match = /^\/lists\/([^/]+)\/tasks$/.exec(url.pathname);
    if (!match) return this.send(res, url, 404, { error: 'not found' });
    this.listTasks(res, url, match[1]);
  }

  private listTasks(res: http.ServerResponse, url: URL, listId: string): void {
    const syncToken = url.searchParams.get('syncToken');
    if (syncToken !== null && Number(syncToken) < this.minValidSyncToken) {
      return this.send(res, url, 410, { error: 'gone' });
    }
    // A page token pins the snapshot: "<offset>.<clock at start>"
    const [offsetText, snapshotText] = (
      url.searchParams.get('pageToken') ?? `0.${this.clock}`
    ).split('.');
    const offset = Number(offsetText);
    const snapshot = Number(snapshotText);
    const since = syncToken === null ? 0 : Number(syncToken);
    const all = [...this.tasks.values()]
      .filter((t) => t.listId === listId && t.version > since && (syncToken !== null || !t.deleted))
      .sort((a, b) => a.id.localeCompare(b.id));
    const page = all.slice(offset, offset + this.pageSize);
    const more = offset + this.pageSize < all.length;
    this.send(res, url, 200, {
      items: page,
      nextPageToken: more ? `${offset + this.pageSize}.${snapshot}` : undefined,
      nextSyncToken: more ? undefined : String(snapshot),
    });
  }

  private send(
    res: http.ServerResponse,
    url: URL,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    faulted = false,
  ): void {
    this.requests.push({
      path: url.pathname,
      pageToken: url.searchParams.get('pageToken'),
      syncToken: url.searchParams.get('syncToken'),
      at: Date.now(),
      status,
      faulted,
    });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}
