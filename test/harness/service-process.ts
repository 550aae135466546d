import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { reapOnExit } from './child-reaper.js';
import { eventually, GiveUp } from '@pdeck/integration-sdk/testing';

export type Role = 'all' | 'api' | 'worker';

const READY: Record<Role, RegExp> = {
  all: /\(ROLE=all\) listening on/,
  api: /\(ROLE=api\) listening on/,
  worker: /\(ROLE=worker\) ready/,
};

/** The built service (`dist/main.js`) as a real child process, with its output captured. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every line the process wrote to stdout or stderr, across restarts. */
  readonly lines: string[] = [];
  private readonly file?: WriteStream;
  starts = 0;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: Record<string, string>,
    options: { logFile?: string; nodeArgs?: string[]; entry?: string } = {},
  ) {
    if (options.logFile) this.file = createWriteStream(options.logFile, { flags: 'a' });
    this.nodeArgs = options.nodeArgs ?? [];
    this.entry = options.entry ?? resolve('dist/main.js');
  }

  private readonly nodeArgs: string[];
  /** The built service to run (default `dist/main.js` of the working directory). */
  private readonly entry: string;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves when it reports ready (HTTP listening / queues running). */
  async start(timeoutMs = 60_000): Promise<this> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const mark = this.lines.length;
    this.starts += 1;
    const child = reapOnExit(
      spawn(process.execPath, [...this.nodeArgs, this.entry], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...this.env,
          ROLE: this.role,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.child = child;
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        this.file?.write(`[${this.name}#${this.starts}] ${line}\n`);
      });
    }
    await this.waitForLine(READY[this.role], timeoutMs, mark);
    return this;
  }

  /** Resolves with the first line matching `pattern` written after line index `from`. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
    return eventually(
      () => {
        const found = this.lines.slice(from).find((l) => pattern.test(l));
        if (found) return found;
        if (!this.running && this.child)
          throw new GiveUp(
            `${this.name} exited before printing ${pattern}:\n${this.lines.slice(-30).join('\n')}`,
          );
        return undefined;
      },
      `${this.name} to print ${pattern}`,
      timeoutMs,
      25,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\n--- last output of ${this.name}:\n${this.lines.slice(-20).join('\n')}`,
      );
    });
  }

  /** Sends a signal and waits for the exit; returns the exit code and signal. */
  async signal(
    signal: NodeJS.Signals,
    timeoutMs = 70_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || !this.exited) return { code: null, signal: null };
    if (this.running) child.kill(signal);
    const timer = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref(),
    );
    return Promise.race([this.exited, timer]);
  }

  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.running) await this.signal('SIGTERM').catch(() => this.kill());
  }

  /** Parsed JSON log lines (pino), skipping plain console lines. */
  json(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* a partial line */
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((done) => (this.file ? this.file.end(done) : done()));
  }
}
