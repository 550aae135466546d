/** Thrown by fakes' data helpers for an unknown account, calendar or event; admin routes answer 404. */
export class SandboxNotFoundError extends Error {
  override readonly name = 'SandboxNotFoundError';
}
