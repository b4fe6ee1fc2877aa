import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { EnsembleError } from '@ensemble/core';

/** What is stored for one secret; the key itself never is, only its fingerprint. */
export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
}

export interface MasterKeys {
  /** Encrypts everything new and everything rotated. */
  current: Buffer;
  /** Still accepted for decryption, until rotation has re-encrypted what they sealed. */
  previous?: readonly Buffer[];
}

/**
 * AES-256-GCM under a master key. Each secret gets a fresh 96-bit IV, and is bound to where it is
 * stored (the additional data, e.g. `project/name`), so a ciphertext copied to another row fails to
 * decrypt instead of serving the wrong key.
 */
export class CredentialCipher {
  readonly currentKeyId: string;
  readonly #current: Buffer;
  readonly #keys = new Map<string, Buffer>();

  constructor(keys: MasterKeys) {
    for (const key of [keys.current, ...(keys.previous ?? [])]) {
      if (key.length !== 32) throw new EnsembleError('config_invalid', 'a master key must be exactly 32 bytes');
      this.#keys.set(masterKeyId(key), key);
    }
    this.#current = keys.current;
    this.currentKeyId = masterKeyId(keys.current);
  }

  encrypt(plaintext: string, additionalData: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    cipher.setAAD(Buffer.from(additionalData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.currentKeyId };
  }

  /** Throws `config_invalid` when the key that sealed it is not configured or the data was altered. */
  decrypt(sealed: SealedSecret, additionalData: string): string {
    const key = this.#keys.get(sealed.keyId);
    if (key === undefined) {
      throw new EnsembleError(
        'config_invalid',
        `'${additionalData}' is encrypted with master key ${sealed.keyId}, which is not configured: ` +
          'set ENSEMBLE_MASTER_KEY to it, or list it in ENSEMBLE_MASTER_KEY_PREVIOUS and rotate the credentials',
        { details: { keyId: sealed.keyId, currentKeyId: this.currentKeyId } },
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
      decipher.setAAD(Buffer.from(additionalData, 'utf8'));
      decipher.setAuthTag(sealed.authTag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new EnsembleError(
        'config_invalid',
        `'${additionalData}' cannot be decrypted with master key ${sealed.keyId}: the key is wrong or the row was altered`,
        { cause: error, details: { keyId: sealed.keyId } },
      );
    }
  }
}

/** A fingerprint that names a key without revealing it. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('ensemble-master-key:').update(key).digest('hex').slice(0, 16);
}
