import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  hmacSha1Signature,
  parseAuthorizationHeader,
  signatureBaseString,
} from '../../src/auth/oauth1/oauth1-signer.js';

/**
 * A Trello-shaped OAuth 1.0a server (request token, authorize, access token) that really
 * verifies HMAC-SHA1 signatures with its own copy of the consumer secret, so a signing bug in
 * our code fails here the way it would fail against Trello.
 */

export interface FakeOAuth1Stats {
  requests: number;
  requestTokens: number;
  authorizations: number;
  accessTokens: number;
  /** Requests rejected with 401 `invalid signature`. */
  badSignatures: number;
  /** Query of the last authorize call, to check name / scope / expiration. */
  lastAuthorizeQuery?: Record<string, string>;
}

export interface FakeOAuth1Server {
  origin: string;
  stats: FakeOAuth1Stats;
  /** Every secret handed out, so tests can check they never leak into our storage. */
  issued: {
    requestTokens: Array<{ token: string; secret: string }>;
    accessTokens: Array<{ token: string; secret: string }>;
  };
  /** When true, the authorize endpoint redirects back without a verifier (user said no). */
  deny: boolean;
  close(): Promise<void>;
}

interface RequestTokenRecord {
  secret: string;
  callback: string;
  verifier?: string;
}

const TIMESTAMP_WINDOW_S = 300;

export async function startFakeOAuth1Server(opts: {
  consumerKey: string;
  consumerSecret: string;
}): Promise<FakeOAuth1Server> {
  const requestTokens = new Map<string, RequestTokenRecord>();
  const seenNonces = new Set<string>();
  const fake: FakeOAuth1Server = {
    origin: '',
    deny: false,
    stats: { requests: 0, requestTokens: 0, authorizations: 0, accessTokens: 0, badSignatures: 0 },
    issued: { requestTokens: [], accessTokens: [] },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      }),
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, { 'content-type': type }).end(body);
  };
  const sendForm = (res: ServerResponse, params: Record<string, string>) =>
    send(res, 200, new URLSearchParams(params).toString(), 'application/x-www-form-urlencoded');

  /** Returns the verified oauth params, or undefined after answering 401. */
  const verify = async (req: IncomingMessage, res: ServerResponse, tokenSecret?: string) => {
    const oauth = parseAuthorizationHeader(req.headers.authorization);
    if (!oauth || oauth.oauth_consumer_key !== opts.consumerKey) {
      send(res, 401, 'invalid consumer');
      return undefined;
    }
    const body = await readBody(req);
    const isForm = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
    const formPairs = isForm ? [...new URLSearchParams(body)] : [];
    const base = signatureBaseString(req.method ?? 'GET', `${fake.origin}${req.url}`, [
      ...Object.entries(oauth),
      ...formPairs,
    ]);
    const expected = hmacSha1Signature(base, opts.consumerSecret, tokenSecret);
    if (oauth.oauth_signature_method !== 'HMAC-SHA1' || oauth.oauth_signature !== expected) {
      fake.stats.badSignatures++;
      send(res, 401, 'invalid signature');
      return undefined;
    }
    const age = Math.abs(Date.now() / 1000 - Number(oauth.oauth_timestamp));
    const nonceKey = `${oauth.oauth_timestamp}:${oauth.oauth_nonce}`;
    if (!(age <= TIMESTAMP_WINDOW_S) || !oauth.oauth_nonce || seenNonces.has(nonceKey)) {
      send(res, 401, 'invalid timestamp or nonce');
      return undefined;
    }
    seenNonces.add(nonceKey);
    return oauth;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    fake.stats.requests++;
    const url = new URL(req.url ?? '/', fake.origin);
    if (req.method === 'POST' && url.pathname === '/1/OAuthGetRequestToken') {
      const oauth = await verify(req, res);
      if (!oauth) return;
      if (!oauth.oauth_callback || oauth.oauth_token)
        return send(res, 400, 'oauth_callback required');
      const token = randomBytes(16).toString('hex');
      const secret = randomBytes(16).toString('hex');
      requestTokens.set(token, { secret, callback: oauth.oauth_callback });
      fake.issued.requestTokens.push({ token, secret });
      fake.stats.requestTokens++;
      return sendForm(res, {
        oauth_token: token,
        oauth_token_secret: secret,
        oauth_callback_confirmed: 'true',
      });
    }
    if (req.method === 'GET' && url.pathname === '/1/OAuthAuthorizeToken') {
      fake.stats.authorizations++;
      fake.stats.lastAuthorizeQuery = Object.fromEntries(url.searchParams);
      const token = url.searchParams.get('oauth_token') ?? '';
      const record = requestTokens.get(token);
      if (!record) return send(res, 400, 'invalid token');
      // Approves at once, standing in for the user clicking "Allow".
      const back = new URL(record.callback);
      back.searchParams.set('oauth_token', token);
      if (!fake.deny) {
        record.verifier = randomBytes(16).toString('hex');
        back.searchParams.set('oauth_verifier', record.verifier);
      }
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/1/OAuthGetAccessToken') {
      const token = parseAuthorizationHeader(req.headers.authorization)?.oauth_token ?? '';
      const record = requestTokens.get(token);
      if (!record) return send(res, 401, 'invalid token');
      const oauth = await verify(req, res, record.secret);
      if (!oauth) return;
      // Single use: a request token and its verifier are spent by the first signed attempt.
      requestTokens.delete(token);
      if (!record.verifier || oauth.oauth_verifier !== record.verifier) {
        return send(res, 401, 'invalid verifier');
      }
      const access = {
        token: randomBytes(32).toString('hex'),
        secret: randomBytes(32).toString('hex'),
      };
      fake.issued.accessTokens.push(access);
      fake.stats.accessTokens++;
      return sendForm(res, { oauth_token: access.token, oauth_token_secret: access.secret });
    }
    send(res, 404, 'not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'fake server error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
