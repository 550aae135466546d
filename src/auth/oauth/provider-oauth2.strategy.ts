import type { Request } from 'express';
import type { OAuth2 } from 'oauth';
import OAuth2Strategy from 'passport-oauth2';
import type { ProviderCredentials } from '../../core/config/app-config.js';
import type { AccountIdentity, OAuth2AuthDescriptor } from '@pdeck/integration-sdk';
import type { RedisOAuth2StateStore } from './oauth2-state.store.js';
import type { TokenSet } from './token-exchange.js';

/** What a successful callback hands to passport's `success`. */
export interface OAuth2Grant {
  identity: AccountIdentity;
  tokens: TokenSet;
}

export interface ProviderOAuth2StrategyOptions {
  provider: string;
  descriptor: OAuth2AuthDescriptor;
  credentials: ProviderCredentials;
  /** Our callback URL for this provider, sent as redirect_uri in both legs. */
  callbackUrl: string;
  /** The descriptor's authorize URL after PROVIDER_ORIGINS: the browser goes there. */
  authorizeUrl: string;
  store: RedisOAuth2StateStore;
  /** Code exchange through ProviderHttpClient (form or JSON, body or Basic client auth). */
  exchange(params: Record<string, string>): Promise<TokenSet>;
  /** Reads the account the tokens belong to, via the provider's fetchIdentity. */
  identify(tokens: TokenSet): Promise<AccountIdentity>;
}

type TokenCallback = (
  err: unknown,
  accessToken?: string,
  refreshToken?: string,
  results?: TokenSet,
) => void;

/**
 * passport-oauth2 bound to one catalog entry. passport keeps the protocol (authorize URL with
 * state and S256 challenge, state verification, code exchange order); the two network legs go
 * through our own code: the exchange through ProviderHttpClient (the `oauth` package's client
 * knows neither JSON bodies nor our origin map and timeouts), the profile through the
 * provider's fetchIdentity.
 *
 * Instances are shared per app and must stay stateless: every run goes through `runStrategy`,
 * which authenticates on `Object.create(strategy)`, and this class keeps the tokens of a run on
 * that per-run object only.
 */
export class ProviderOAuth2Strategy extends OAuth2Strategy {
  /** Set on the per-run object once the code was exchanged, for `userProfile`. */
  private runTokens?: TokenSet;

  constructor(private readonly options: ProviderOAuth2StrategyOptions) {
    const { descriptor, credentials } = options;
    super(
      {
        authorizationURL: options.authorizeUrl,
        tokenURL: descriptor.tokenUrl,
        clientID: credentials.clientId,
        clientSecret: credentials.clientSecret,
        callbackURL: options.callbackUrl,
        scope: descriptor.scopes,
        scopeSeparator: descriptor.scopeSeparator,
        pkce: descriptor.pkce,
        state: true,
        // The declared type lacks the PKCE (five-argument) store signature passport-oauth2 uses.
        store: options.store as unknown as OAuth2Strategy.StateStore,
      },
      (
        _accessToken: string,
        _refreshToken: string,
        tokens: TokenSet,
        identity: AccountIdentity,
        done: OAuth2Strategy.VerifyCallback,
      ) => done(null, { identity, tokens } satisfies OAuth2Grant as Express.User),
    );
    this.name = `oauth2:${options.provider}`;
  }

  override authenticate(req: Request, options?: object): void {
    if (Object.hasOwn(this, '_oauth2')) {
      throw new Error('ProviderOAuth2Strategy: authenticate through runStrategy, not directly');
    }
    const oauth2 = Object.create(this._oauth2) as OAuth2;
    // Own property of this run only: the shared strategy's client is never touched.
    const exchange = (code: string, params: unknown, callback: TokenCallback) => {
      const grant = { ...(params as Record<string, string>), code };
      this.options.exchange(grant).then(
        (tokens) => {
          this.runTokens = tokens;
          callback(null, tokens.accessToken, tokens.refreshToken ?? '', tokens);
        },
        (err: unknown) => callback(err),
      );
    };
    // The declared callback type insists on node-oauth's error shape; ours are plain Errors.
    oauth2.getOAuthAccessToken = exchange as unknown as OAuth2['getOAuthAccessToken'];
    this._oauth2 = oauth2;
    super.authenticate(req, options);
  }

  override userProfile(accessToken: string, done: (err?: unknown, profile?: unknown) => void) {
    const tokens = this.runTokens ?? { accessToken };
    this.options.identify(tokens).then(
      (identity) => done(null, identity),
      (err: unknown) => done(err),
    );
  }

  override authorizationParams(): object {
    return { ...this.options.descriptor.authorizeParams };
  }
}
