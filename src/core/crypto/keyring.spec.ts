import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, Keyring, type EncryptionContext } from './keyring.js';

const oldKey = { kid: 'old', key: randomBytes(32) };
const newKey = { kid: 'new', key: randomBytes(32) };
const ctx: EncryptionContext = { table: 'connections', column: 'access_token', rowId: 'row-1' };

function expectDecryptionError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecryptionError);
    expect((err as DecryptionError).code).toBe('DECRYPTION_FAILED');
    return;
  }
  throw new Error('expected a DecryptionError');
}

/** Flips one bit of the decoded bytes of part `index` (2 = nonce, 3 = ciphertext+tag). */
function flip(ciphertext: string, index: number, byte: number): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[index], 'base64url');
  bytes[byte < 0 ? bytes.length + byte : byte] ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('Keyring', () => {
  const keyring = new Keyring([newKey]);

  it('round-trips ASCII, unicode and the empty string', () => {
    for (const text of ['secret-token', 'héllo wörld ✓ 🔐 日本語', '']) {
      expect(keyring.decrypt(keyring.encrypt(text, ctx), ctx)).toBe(text);
    }
  });

  it('round-trips JSON', () => {
    const value = { a: 1, b: ['x', null], c: 'ü' };
    expect(keyring.decryptJson(keyring.encryptJson(value, ctx), ctx)).toEqual(value);
  });

  it('emits the v1.<kid>.<nonce>.<sealed> format', () => {
    const ct = keyring.encrypt('x', ctx);
    expect(ct).toMatch(/^v1\.new\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(keyring.keyIdOf(ct)).toBe('new');
  });

  it('uses a fresh nonce for every encryption', () => {
    const a = keyring.encrypt('same', ctx);
    const b = keyring.encrypt('same', ctx);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('rejects tampering with ciphertext, nonce, tag or kid', () => {
    const ct = keyring.encrypt('secret-token', ctx);
    expectDecryptionError(() => keyring.decrypt(flip(ct, 3, 0), ctx)); // ciphertext
    expectDecryptionError(() => keyring.decrypt(flip(ct, 2, 0), ctx)); // nonce
    expectDecryptionError(() => keyring.decrypt(flip(ct, 3, -1), ctx)); // tag
    expectDecryptionError(() => keyring.decrypt(ct.replace('.new.', '.old.'), ctx)); // unknown kid

    // A kid swapped to another key the keyring does hold must fail too.
    const both = new Keyring([newKey, oldKey]);
    expectDecryptionError(() => both.decrypt(ct.replace('.new.', '.old.'), ctx));
  });

  it('rejects a value moved to another row, column or table', () => {
    const ct = keyring.encrypt('secret-token', ctx);
    expectDecryptionError(() => keyring.decrypt(ct, { ...ctx, rowId: 'row-2' }));
    expectDecryptionError(() => keyring.decrypt(ct, { ...ctx, column: 'refresh_token' }));
    expectDecryptionError(() => keyring.decrypt(ct, { ...ctx, table: 'accounts' }));
  });

  it('does not confuse contexts whose fields concatenate alike', () => {
    const a = { table: 'ab', column: 'c', rowId: '1' };
    const ct = keyring.encrypt('x', a);
    expectDecryptionError(() => keyring.decrypt(ct, { table: 'a', column: 'bc', rowId: '1' }));
  });

  it('rejects malformed values and unknown versions', () => {
    const ct = keyring.encrypt('x', ctx);
    for (const bad of ['', 'garbage', ct.replace(/^v1\./, 'v2.'), `${ct}.extra`, ct + '!']) {
      expectDecryptionError(() => keyring.decrypt(bad, ctx));
    }
    expectDecryptionError(() => keyring.keyIdOf(ct.replace(/^v1\./, 'v2.')));
  });

  it('keeps plaintext out of error messages', () => {
    const ct = keyring.encrypt('super-secret-value', ctx);
    expect(() => keyring.decrypt(ct, { ...ctx, rowId: 'other' })).toThrow(DecryptionError);
    expect(() => keyring.decryptJson(keyring.encrypt('{"secret', ctx), ctx)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });

  it('supports rotation: old values decrypt while the old key is kept second', () => {
    const legacy = new Keyring([oldKey]).encrypt('secret-token', ctx);
    const rotated = new Keyring([newKey, oldKey]);

    expect(rotated.primaryKid).toBe('new');
    expect(rotated.decrypt(legacy, ctx)).toBe('secret-token');
    expect(rotated.needsRotation(legacy)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('secret-token', ctx))).toBe(false);

    const retired = new Keyring([newKey]);
    expectDecryptionError(() => retired.decrypt(legacy, ctx));
  });

  it('encrypts with the named primary key, in any position, and keeps decrypting with all', () => {
    const legacy = new Keyring([oldKey]).encrypt('secret-token', ctx);
    // Deployed decrypt-only: the new key is configured but the old one still encrypts.
    const decryptOnly = new Keyring([oldKey, newKey], 'old');
    expect(decryptOnly.keyIdOf(decryptOnly.encrypt('x', ctx))).toBe('old');
    expect(decryptOnly.keyIds).toEqual(['old', 'new']);
    // Promoted: the same list, the new key encrypts; both kinds of value stay readable.
    const promoted = new Keyring([oldKey, newKey], 'new');
    const written = promoted.encrypt('secret-token', ctx);
    expect(promoted.primaryKid).toBe('new');
    expect(promoted.keyIdOf(written)).toBe('new');
    expect(promoted.needsRotation(legacy)).toBe(true);
    expect(promoted.needsRotation(written)).toBe(false);
    expect(promoted.decrypt(legacy, ctx)).toBe('secret-token');
    expect(decryptOnly.decrypt(written, ctx)).toBe('secret-token');
    // A process without the new key fails on it, and the error names the key (not the key bytes).
    const error = (() => {
      try {
        new Keyring([oldKey]).decrypt(written, ctx);
      } catch (e) {
        return e as DecryptionError;
      }
    })();
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error?.kid).toBe('new');
    expect(() => new Keyring([oldKey, newKey], 'other')).toThrow(/"other" is not among/);
  });

  it('names the key id in authentication failures too', () => {
    const ct = keyring.encrypt('x', ctx);
    const error = (() => {
      try {
        keyring.decrypt(ct, { ...ctx, rowId: 'elsewhere' });
      } catch (e) {
        return e as DecryptionError;
      }
    })();
    expect(error?.kid).toBe('new');
  });

  it('validates its configuration', () => {
    expect(() => new Keyring([])).toThrow(/empty/);
    expect(() => new Keyring([{ kid: 'k', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new Keyring([{ kid: 'a.b', key: randomBytes(32) }])).toThrow(/key id/);
    expect(() => new Keyring([newKey, newKey])).toThrow(/Duplicate/);
  });
});
