import type { Cluster } from './cluster.js';

/**
 * Connects an account through the service's real authorize -> provider consent -> callback ->
 * confirm flow, answering the sandbox's consent page with `auto=allow` and confirming as PDeck's
 * backend would (for the same user). Returns the connection id.
 */
export async function connectThroughConsent(
  cluster: Cluster,
  provider: string,
  userId: string,
  consentParams: Record<string, string> = {},
): Promise<string> {
  const returnTo = `${cluster.baseUrl}/connected`;
  const start = await cluster.request(`/v1/connections/${provider}/authorize`, {
    method: 'POST',
    body: JSON.stringify({ userId, returnTo }),
  });
  if (start.status !== 201) throw new Error(`authorize: ${start.status} ${await start.text()}`);
  const { authorizeUrl } = (await start.json()) as { authorizeUrl: string };
  const url = new URL(authorizeUrl);
  url.searchParams.set('auto', 'allow');
  for (const [k, v] of Object.entries(consentParams)) url.searchParams.set(k, v);
  const consent = await fetch(url, { redirect: 'manual' });
  const location = consent.headers.get('location');
  if (!location) throw new Error(`consent did not redirect: ${consent.status}`);
  const done = await fetch(location, { redirect: 'manual' });
  const landed = done.headers.get('location');
  const params = landed ? new URL(landed).searchParams : undefined;
  const connectionId = params?.get('connectionId');
  const token = params?.get('confirm');
  if (done.status !== 302 || !connectionId || !token)
    throw new Error(`callback: ${done.status} ${landed ?? (await done.text())}`);
  const confirmed = await cluster.request(`/v1/connections/${connectionId}/confirm`, {
    method: 'POST',
    body: JSON.stringify({ userId, token }),
  });
  if (confirmed.status !== 200)
    throw new Error(`confirm: ${confirmed.status} ${await confirmed.text()}`);
  return connectionId;
}
