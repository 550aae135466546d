import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { KeyRotationService } from '../auth/key-rotation.service.js';
import { ConfigError, loadConfigFromProcessEnv } from '../core/config/load-config.js';
import { Keyring } from '../core/crypto/keyring.js';
import { appDataSourceOptions } from '../app.entities.js';
import { resolveDatabaseUrl } from '../core/runtime/prepare-runtime.js';

/**
 * `npm run keys:rotate`: re-encrypts every stored secret under the first key of ENCRYPTION_KEYS.
 * Procedure: put the new key first and keep the old ones after it, deploy, run this, then remove
 * the old keys once it reports failed=0. Safe to run while the service is up, and to repeat.
 */
async function main(): Promise<void> {
  const config = loadConfigFromProcessEnv();
  // Without ENCRYPTION_KEYS the service falls back to a generated development key; a rotation
  // needs an explicit target, or it could re-encrypt everything under a key nobody configured.
  if (config.encryptionKeys.length === 0) {
    throw new ConfigError('ENCRYPTION_KEYS must be set: its first key becomes the primary key');
  }
  const keyring = new Keyring(config.encryptionKeys);
  const { url, stop } = await resolveDatabaseUrl(config);
  const dataSource = await new DataSource(appDataSourceOptions(url, 2)).initialize();
  try {
    const report = await new KeyRotationService(dataSource, keyring).rotateAll();
    console.log(`Primary key: ${report.primaryKid}`);
    for (const [column, c] of Object.entries(report.byColumn)) {
      console.log(
        `${column}: scanned=${c.scanned} rotated=${c.rotated} already current=${c.alreadyCurrent} retried=${c.retried} failed=${c.failed}`,
      );
    }
    if (report.failedIds.length) {
      console.error(`Rows that could not be re-encrypted: ${report.failedIds.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await dataSource.destroy();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
