import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../core/redis/redis-client.js';
import { type ConsumedStateSink, recordConsumed } from './consumed-state.js';
import type { ReturnToSeal } from './return-to-seal.js';

/** How long a user has between starting the flow and coming back from the provider. */
export const OAUTH2_STATE_TTL_SECONDS = 600;

/** What the caller of the authorize route binds to the flow. */
export interface OAuth2StateBinding {
  userId: string;
  returnTo?: string;
}

export interface StoredOAuth2State extends OAuth2StateBinding {
  provider: string;
  /** PKCE code_verifier; absent for providers without PKCE. */
  verifier?: string;
  createdAt: string;
}

export type OAuth2StateRejectionReason = 'missing' | 'unknown_or_expired' | 'provider_mismatch';

/** Handed to passport's `fail` when a callback's state is refused (no state value inside). */
export interface OAuth2StateRejection {
  reason: OAuth2StateRejectionReason;
}

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (
  err: Error | null,
  ok: string | boolean,
  info?: OAuth2StateBinding | OAuth2StateRejection,
) => void;

/**
 * 32 random bytes in base64url (43 characters), then, when the flow has a returnTo, a dot and
 * that returnTo sealed (ReturnToSeal). Anything else cannot be ours.
 */
const STATE_PATTERN = /^([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_.-]{1,4096}))?$/;

/** The request object passport hands the store: ours (runStrategy), with a sink for the state. */
interface StateRequest {
  stateSink?: ConsumedStateSink;
}

/**
 * passport-oauth2's state store, PKCE flavour (`store` with five arguments, `verify` answering
 * the verifier as `ok`), kept in Redis so any API instance can finish a flow another one started.
 * One store per provider: a state presented at another provider's callback path is refused
 * (mix-up defence). Redemption is a GETDEL, so a state works once even under racing callbacks,
 * and it is burnt even when refused, so a leaked state cannot be retried at the right path.
 */
export class RedisOAuth2StateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly provider: string,
    private readonly seal: ReturnToSeal,
  ) {}

  /** Arity 5 matters: passport-oauth2 picks the PKCE calling convention by `store.length`. */
  store(
    _req: unknown,
    verifier: string | undefined,
    binding: OAuth2StateBinding | undefined,
    _meta: unknown,
    callback: StoreCallback,
  ): void {
    if (!binding?.userId) {
      callback(new Error('OAuth2 state store: the flow was started without a userId'));
      return;
    }
    const nonce = randomBytes(32).toString('base64url');
    const state = binding.returnTo
      ? `${nonce}.${this.seal.seal(this.provider, nonce, binding.returnTo)}`
      : nonce;
    const record: StoredOAuth2State = {
      provider: this.provider,
      userId: binding.userId,
      returnTo: binding.returnTo,
      verifier,
      createdAt: new Date().toISOString(),
    };
    this.redis
      .set(this.key(nonce), JSON.stringify(record), 'EX', OAUTH2_STATE_TTL_SECONDS, 'NX')
      .then((ok) => {
        // NX refusing means a 256-bit collision: treat it as the impossible error it is.
        if (ok !== 'OK') throw new Error('OAuth2 state store: state collision');
        callback(null, state);
      })
      .catch((err: unknown) => callback(asError(err)));
  }

  /** Arity 3: `ok` is the verifier string for PKCE providers, `true` otherwise. */
  verify(req: StateRequest, providedState: unknown, callback: VerifyCallback): void {
    this.consume(providedState)
      .then((result) => {
        if ('reason' in result) return callback(null, false, result);
        recordConsumed(req.stateSink, result);
        const binding: OAuth2StateBinding = { userId: result.userId, returnTo: result.returnTo };
        return callback(null, result.verifier ?? true, binding);
      })
      .catch((err: unknown) => callback(asError(err), false));
  }

  /**
   * Redeems a state without a code exchange (the provider sent `?error=`), with the same
   * checks as `verify`.
   */
  async consume(providedState: unknown): Promise<StoredOAuth2State | OAuth2StateRejection> {
    if (typeof providedState !== 'string' || providedState === '') return rejection('missing');
    const nonce = STATE_PATTERN.exec(providedState)?.[1];
    if (!nonce) return rejection('unknown_or_expired');
    const raw = await this.redis.getdel(this.key(nonce));
    if (!raw) return rejection('unknown_or_expired');
    const record = JSON.parse(raw) as StoredOAuth2State;
    if (record.provider !== this.provider) return rejection('provider_mismatch');
    return record;
  }

  /** The returnTo sealed into a state, for a callback that cannot reach Redis. */
  sealedReturnTo(providedState: unknown): string | undefined {
    if (typeof providedState !== 'string') return undefined;
    const [, nonce, sealed] = STATE_PATTERN.exec(providedState) ?? [];
    return nonce && sealed ? this.seal.open(this.provider, nonce, sealed) : undefined;
  }

  private key(nonce: string): string {
    return oauth2StateKey(this.keyPrefix, nonce);
  }
}

export function oauth2StateKey(keyPrefix: string, nonce: string): string {
  return `${keyPrefix}:oauth2:state:${nonce}`;
}

function rejection(reason: OAuth2StateRejectionReason): OAuth2StateRejection {
  return { reason };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
