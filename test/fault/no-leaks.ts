import { expect, it } from 'vitest';
import { CLUSTER_API_TOKEN, type Cluster } from '../harness/cluster.js';
import { collectSecrets, scanForSecrets, type SecretIssuer } from '../harness/leak-scan.js';

/**
 * The closing test of a fault scenario: after crashes and restarts, no token or secret the
 * sandbox issued (nor the API token or the encryption key) appears in any process's logs, any
 * Redis value or any database text.
 */
export function itLeavesNoSecrets(cluster: () => Cluster, issuers: () => SecretIssuer[]): void {
  it('leaves no issued secret in logs, Redis or Postgres', async () => {
    const c = cluster();
    const secrets = collectSecrets(issuers(), [CLUSTER_API_TOKEN, c.encryptionKey.split(':')[1]]);
    const scan = await scanForSecrets(c, secrets);
    expect(secrets.length).toBeGreaterThan(2);
    expect(scan.scanned.logLines).toBeGreaterThan(0);
    expect(scan.findings).toEqual([]);
  });
}
