import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { Keyring, type EncryptionContext } from './keyring.js';

/**
 * Application-wide encryption of stored secrets, backed by the configured ENCRYPTION_KEYS; the
 * key ENCRYPTION_PRIMARY_KEY_ID names (else the first) encrypts.
 */
@Injectable()
export class CryptoService {
  private readonly keyring: Keyring;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig) {
    // Fail at boot rather than on the first write of a secret.
    if (config.encryptionKeys.length === 0) {
      throw new Error('ENCRYPTION_KEYS is empty: at least one "kid:base64" key is required');
    }
    this.keyring = new Keyring(config.encryptionKeys, config.encryptionPrimaryKeyId);
  }

  get primaryKid(): string {
    return this.keyring.primaryKid;
  }

  /** The key ids this process can decrypt (published for `keys:rotate`, never the keys). */
  get keyIds(): string[] {
    return this.keyring.keyIds;
  }

  encrypt(plaintext: string, aad: EncryptionContext): string {
    return this.keyring.encrypt(plaintext, aad);
  }

  decrypt(ciphertext: string, aad: EncryptionContext): string {
    return this.keyring.decrypt(ciphertext, aad);
  }

  encryptJson(value: unknown, aad: EncryptionContext): string {
    return this.keyring.encryptJson(value, aad);
  }

  decryptJson<T = unknown>(ciphertext: string, aad: EncryptionContext): T {
    return this.keyring.decryptJson<T>(ciphertext, aad);
  }

  keyIdOf(ciphertext: string): string {
    return this.keyring.keyIdOf(ciphertext);
  }

  needsRotation(ciphertext: string): boolean {
    return this.keyring.needsRotation(ciphertext);
  }
}
