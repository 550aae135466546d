/** How often an idle link detector looks for users whose items changed. */
export const LINK_POLL_MS = 1_000;
/** Changed items of one user per detector transaction. */
export const LINK_BATCH = 500;
/** Users looked at per probe; a full round is followed by the next one at once. */
export const LINK_PROBE_USERS = 100;
/** Cap of the detector's retry delay while Postgres fails (doubling from the poll). */
export const LINK_MAX_RETRY_MS = 10_000;
