/** What is known about one provider request once it ended; status 0 = no response arrived. */
export interface ProviderResponseInfo {
  provider: string;
  operation?: string;
  method: string;
  host: string;
  status: number;
  ms: number;
}

/**
 * Told about every provider request the HTTP client sends (logs, metrics). An abstract class so
 * it doubles as the injection token: the client cannot be built without one, so no request goes
 * uncounted because a hook was never assigned. Implementations must not throw.
 */
export abstract class ProviderRequestObserver {
  abstract observe(info: ProviderResponseInfo): void;
}
