import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../config/app-config.js';
import { CryptoService } from './crypto.service.js';

const config = (
  encryptionKeys: ResolvedAppConfig['encryptionKeys'],
  encryptionPrimaryKeyId?: string,
) => ({ encryptionKeys, encryptionPrimaryKeyId }) as ResolvedAppConfig;

describe('CryptoService', () => {
  it('refuses to start without keys', () => {
    expect(() => new CryptoService(config([]))).toThrow(/ENCRYPTION_KEYS is empty/);
  });

  it('encrypts with the first configured key', () => {
    const service = new CryptoService(config([{ kid: 'k1', key: randomBytes(32) }]));
    const ctx = { table: 't', column: 'c', rowId: '1' };
    const ct = service.encrypt('hello', ctx);
    expect(service.primaryKid).toBe('k1');
    expect(service.keyIdOf(ct)).toBe('k1');
    expect(service.needsRotation(ct)).toBe(false);
    expect(service.decrypt(ct, ctx)).toBe('hello');
    expect(service.decryptJson(service.encryptJson({ a: 1 }, ctx), ctx)).toEqual({ a: 1 });
  });

  it('encrypts with ENCRYPTION_PRIMARY_KEY_ID when set', () => {
    const keys = [
      { kid: 'k1', key: randomBytes(32) },
      { kid: 'k2', key: randomBytes(32) },
    ];
    const service = new CryptoService(config(keys, 'k2'));
    const ctx = { table: 't', column: 'c', rowId: '1' };
    expect(service.primaryKid).toBe('k2');
    expect(service.keyIds).toEqual(['k1', 'k2']);
    expect(service.keyIdOf(service.encrypt('hello', ctx))).toBe('k2');
  });
});
