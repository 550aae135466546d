/**
 * The embedded development Postgres could not start. The message is one line that says why and
 * what to do instead, meant to be printed as is (main.ts does, without a stack trace).
 */
export class EmbeddedPostgresError extends Error {
  readonly code = 'EMBEDDED_POSTGRES_FAILED';

  constructor(reason: string, options: { asRoot: boolean; cause?: unknown }) {
    const alternative = options.asRoot ? ', or run npm start as a regular (non-root) user' : '';
    super(
      `Could not start the embedded development Postgres: ${oneLine(reason)}. Set DATABASE_URL to a Postgres you run (for example postgres://user:password@127.0.0.1:5432/pdeck)${alternative}.`,
      { cause: options.cause },
    );
    this.name = 'EmbeddedPostgresError';
  }

  /** The reason part for any thrown value (the embedded-postgres package rejects with strings). */
  static reasonOf(error: unknown): string {
    if (error instanceof Error) return error.message;
    if (typeof error === 'string' && error.trim()) return error;
    return 'the server exited during startup';
  }
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/[.\s]+$/, '');
}
