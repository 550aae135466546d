import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateDevKey } from './dev-key.js';

describe('loadOrCreateDevKey', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dev-key-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the key once and returns the same entry afterwards', async () => {
    const dataDir = join(root, 'nested', 'data'); // also checks mkdir -p
    const first = await loadOrCreateDevKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.entry).toMatch(/^dev1:[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(first.entry.split(':')[1], 'base64')).toHaveLength(32);

    const second = await loadOrCreateDevKey(dataDir);
    expect(second).toEqual({ entry: first.entry, created: false });
    expect((await readFile(join(dataDir, 'encryption-key'), 'utf8')).trim()).toBe(first.entry);
  });

  it('writes the key file with mode 0600', async () => {
    await loadOrCreateDevKey(root);
    const { mode } = await stat(join(root, 'encryption-key'));
    expect(mode & 0o777).toBe(0o600);
  });

  it('agrees on one key when called concurrently', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevKey(root)));
    expect(new Set(results.map((r) => r.entry)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});
