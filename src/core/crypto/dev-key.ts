import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE_NAME = 'encryption-key';
const DEV_KID = 'dev1';
const ENTRY_PATTERN = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/;

/**
 * Development only: a persistent local key so encrypted rows survive restarts without anyone
 * having to set ENCRYPTION_KEYS. Returns an entry in the ENCRYPTION_KEYS format (`kid:base64`).
 */
export async function loadOrCreateDevKey(
  dataDir: string,
): Promise<{ entry: string; created: boolean }> {
  const path = join(dataDir, FILE_NAME);
  const existing = await readEntry(path);
  if (existing !== undefined) return { entry: existing, created: false };

  await mkdir(dataDir, { recursive: true });
  const entry = `${DEV_KID}:${randomBytes(32).toString('base64')}`;
  // Write a private temp file, then link it into place: the key file appears complete or not at
  // all, and link() never overwrites, so two processes starting together agree on one key
  // (replacing a key would make existing data unreadable).
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${entry}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600); // the create mode is subject to the umask
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = await readEntry(path);
    if (winner === undefined) throw err;
    return { entry: winner, created: false };
  } finally {
    await rm(tmp, { force: true });
  }
  return { entry, created: true };
}

async function readEntry(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const entry = text.trim();
  const match = ENTRY_PATTERN.exec(entry);
  // Refuse rather than regenerate: a silently replaced key would orphan encrypted data.
  if (!match || Buffer.from(match[2], 'base64').length !== 32) {
    throw new Error(`${path} does not hold a "kid:base64-of-32-bytes" key`);
  }
  return entry;
}
