import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { EncryptionKeyConfig } from '../config/app-config.js';

/** Where an encrypted value lives; bound into the AAD so a value cannot be moved elsewhere. */
export interface EncryptionContext {
  table: string;
  column: string;
  rowId: string;
}

/**
 * Thrown for every decryption problem. Messages never carry plaintext or key material; `kid` is
 * the key id the value names (not secret), when the value was well-formed enough to name one.
 */
export class DecryptionError extends Error {
  readonly code = 'DECRYPTION_FAILED' as const;

  constructor(
    reason: string,
    readonly kid?: string,
  ) {
    super(`Decryption failed: ${reason}`);
    this.name = 'DecryptionError';
  }
}

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

interface ParsedCiphertext {
  kid: string;
  nonce: Buffer;
  sealed: Buffer; // ciphertext followed by the GCM tag
}

/**
 * AES-256-GCM envelope over a set of keys. The primary key encrypts (the one `primaryKid` names,
 * else the first); all keys decrypt. So a new key can first be deployed decrypt-only everywhere,
 * then promoted, while values written with older keys stay readable until re-encrypted.
 * Format: `v1.<kid>.<base64url nonce>.<base64url ciphertext+tag>`.
 */
export class Keyring {
  readonly primaryKid: string;
  // KeyObjects rather than Buffers: they do not print their bytes when logged or inspected.
  private readonly keys = new Map<string, KeyObject>();

  constructor(entries: readonly EncryptionKeyConfig[], primaryKid?: string) {
    if (entries.length === 0) throw new Error('ENCRYPTION_KEYS is empty');
    for (const { kid, key } of entries) {
      if (!KID_PATTERN.test(kid)) throw new Error(`Invalid encryption key id "${kid}"`);
      if (key.length !== KEY_BYTES) throw new Error(`Encryption key "${kid}" must be 32 bytes`);
      if (this.keys.has(kid)) throw new Error(`Duplicate encryption key id "${kid}"`);
      this.keys.set(kid, createSecretKey(Buffer.from(key)));
    }
    if (primaryKid !== undefined && !this.keys.has(primaryKid)) {
      throw new Error(`Primary encryption key id "${primaryKid}" is not among the keys`);
    }
    this.primaryKid = primaryKid ?? entries[0].kid;
  }

  /** Every key id this keyring can decrypt, in configuration order. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encrypt(plaintext: string, aad: EncryptionContext): string {
    const kid = this.primaryKid;
    // A fresh random nonce per value; with 96 bits, collisions are negligible at our volumes.
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(kid)!, nonce, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(buildAad(VERSION, kid, aad));
    const sealed = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return [VERSION, kid, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  decrypt(ciphertext: string, aad: EncryptionContext): string {
    const { kid, nonce, sealed } = parse(ciphertext);
    const key = this.keys.get(kid);
    if (!key) throw new DecryptionError(`unknown key id "${kid}"`, kid);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(buildAad(VERSION, kid, aad));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const body = sealed.subarray(0, sealed.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      // Node's error is generic anyway; the cause is deliberately dropped so nothing leaks.
      throw new DecryptionError('authentication failed (tampered value or wrong context)', kid);
    }
  }

  encryptJson(value: unknown, aad: EncryptionContext): string {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError('Value is not JSON-serialisable');
    return this.encrypt(json, aad);
  }

  decryptJson<T = unknown>(ciphertext: string, aad: EncryptionContext): T {
    const json = this.decrypt(ciphertext, aad);
    try {
      return JSON.parse(json) as T;
    } catch {
      // No cause: JSON.parse messages quote fragments of the (secret) input.
      throw new DecryptionError('value is not JSON', this.keyIdOf(ciphertext));
    }
  }

  keyIdOf(ciphertext: string): string {
    return parse(ciphertext).kid;
  }

  /** True when the value was not written with the primary key and should be re-encrypted. */
  needsRotation(ciphertext: string): boolean {
    return this.keyIdOf(ciphertext) !== this.primaryKid;
  }
}

/**
 * JSON of a fixed-shape array is an unambiguous encoding: no choice of field values can make
 * two different contexts serialise alike. Version and kid are included so neither can be
 * swapped in the envelope without failing authentication.
 */
function buildAad(version: string, kid: string, ctx: EncryptionContext): Buffer {
  return Buffer.from(JSON.stringify([version, kid, ctx.table, ctx.column, ctx.rowId]), 'utf8');
}

function parse(ciphertext: string): ParsedCiphertext {
  if (typeof ciphertext !== 'string') throw new DecryptionError('value is not a string');
  const parts = ciphertext.split('.');
  if (parts.length !== 4) throw new DecryptionError('malformed value');
  const [version, kid, nonceText, sealedText] = parts;
  if (version !== VERSION) throw new DecryptionError('unsupported format version');
  if (!KID_PATTERN.test(kid)) throw new DecryptionError('malformed key id');
  const nonce = decodeBase64url(nonceText);
  const sealed = decodeBase64url(sealedText);
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) {
    throw new DecryptionError('malformed value');
  }
  return { kid, nonce, sealed };
}

// Node's decoder silently skips junk, so insist on the canonical encoding.
function decodeBase64url(text: string): Buffer {
  if (!BASE64URL_PATTERN.test(text)) throw new DecryptionError('malformed value');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new DecryptionError('malformed value');
  return bytes;
}
