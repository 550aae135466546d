import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface OidcServerOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** The account every consent logs in as; change it between flows to connect another account. */
  accountId?: string;
  accessTokenTtlSeconds?: number;
}

export interface OidcServer {
  origin: string;
  provider: Provider;
  /** Requests seen at the token endpoint, by grant type. */
  tokenRequests: { grantType: string; at: number }[];
  setAccount(accountId: string): void;
  close(): Promise<void>;
}

/**
 * A real, certified OAuth 2.0 / OIDC authorization server (panva's oidc-provider) on loopback, with
 * PKCE required, refresh-token rotation and reuse detection (a reused refresh token revokes the
 * grant). Consent is automatic: the interaction route logs the configured account in and grants
 * every requested scope, like a user clicking "Allow".
 */
export async function startOidcServer(options: OidcServerOptions): Promise<OidcServer> {
  let accountId = options.accountId ?? 'user-1';
  const tokenRequests: OidcServer['tokenRequests'] = [];
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(origin, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    scopes: ['openid', 'email', 'offline_access', 'tasks.read'],
    claims: { email: ['email'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 600,
      Grant: 86400,
      RefreshToken: 86400,
    },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test` }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-cookie-key-0123456789'] },
  });
  provider.proxy = false;
  const callback = provider.callback();

  server.on('request', (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname.startsWith('/interaction/'))
        return autoConsent(provider, req, res, () => accountId);
      if (req.method === 'POST' && url.pathname === '/token') {
        const chunks: Buffer[] = [];
        // Peek at the grant type without consuming the stream oidc-provider reads.
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const grantType =
            new URLSearchParams(Buffer.concat(chunks).toString()).get('grant_type') ?? '';
          tokenRequests.push({ grantType, at: Date.now() });
        });
      }
      callback(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    origin,
    provider,
    tokenRequests,
    setAccount: (id) => {
      accountId = id;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function autoConsent(
  provider: Provider,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  accountId: () => string,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: accountId() } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({
        accountId: details.session!.accountId,
        clientId: String(details.params.client_id),
      });
  grant!.addOIDCScope(String(details.params.scope));
  const grantId = await grant!.save();
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}

/**
 * Follows a browser's redirects from an authorize URL through the authorization server (keeping
 * its cookies) until a redirect leaves for `stopAtOrigin`; returns that final URL.
 */
export async function followConsent(authorizeUrl: string, stopAtOrigin: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = new URL(authorizeUrl);
  for (let hop = 0; hop < 20; hop++) {
    if (url.origin === stopAtOrigin) return url;
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const [name, ...value] = pair.split('=');
      cookies.set(name.trim(), value.join('='));
    }
    const location = res.headers.get('location');
    if (!location)
      throw new Error(`Consent stopped at ${url.pathname} with ${res.status}: ${await res.text()}`);
    url = new URL(location, url);
  }
  throw new Error('Too many redirects during consent');
}
