import { Injectable } from '@nestjs/common';
import { CryptoService } from '../../core/crypto/crypto.service.js';
import type { EncryptionContext } from '../../core/crypto/keyring.js';

/**
 * returnTo, sealed (AES-GCM with our keys) into what the provider sends back to our callback,
 * bound to the provider and the flow's state. The state record in Redis is the truth; this
 * copy only tells a callback where to send the user when Redis cannot be asked (it is away),
 * so even then the user lands back in PDeck with ?error= instead of on an error page. It is
 * authenticated (nobody can forge a destination) and still checked against RETURN_TO_ORIGINS.
 */
@Injectable()
export class ReturnToSeal {
  constructor(private readonly crypto: CryptoService) {}

  seal(provider: string, nonce: string, returnTo: string): string {
    return this.crypto.encrypt(returnTo, context(provider, nonce));
  }

  /** The sealed returnTo, or undefined when absent, foreign or tampered with. */
  open(provider: string, nonce: string, sealed: string): string | undefined {
    try {
      return this.crypto.decrypt(sealed, context(provider, nonce));
    } catch {
      return undefined;
    }
  }
}

function context(provider: string, nonce: string): EncryptionContext {
  return { table: 'oauth_state', column: provider, rowId: nonce };
}
