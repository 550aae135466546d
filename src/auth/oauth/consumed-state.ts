/**
 * Filled by a flow the moment it redeems a callback's state: from then on the callback knows
 * where the user came from, so any later failure sends them back to returnTo with ?error=.
 */
export interface ConsumedStateSink {
  consumed?: boolean;
  userId?: string;
  returnTo?: string;
}

export function recordConsumed(
  sink: ConsumedStateSink | undefined,
  state: { userId: string; returnTo?: string },
): void {
  if (!sink) return;
  sink.consumed = true;
  sink.userId = state.userId;
  sink.returnTo = state.returnTo;
}
