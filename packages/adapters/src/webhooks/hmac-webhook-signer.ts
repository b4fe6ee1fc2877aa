import { createHmac, hkdfSync } from 'node:crypto';
import type { WebhookSigner } from '@ensemble/core';

/**
 * Webhook signatures with a secret per project derived from the master key (HKDF-SHA256), so there
 * is no secret to store, every instance derives the same one, and `GET /api/jobs/webhook-secret`
 * can show it to the project at any time. Rotating the master key changes the secrets.
 */
export class HmacWebhookSigner implements WebhookSigner {
  readonly #masterKey: Buffer;
  readonly #secrets = new Map<string, string>();

  constructor(masterKey: Buffer) {
    this.#masterKey = masterKey;
  }

  secretFor(projectId: string): string {
    let secret = this.#secrets.get(projectId);
    if (secret === undefined) {
      const bytes = Buffer.from(
        hkdfSync('sha256', this.#masterKey, '', `ensemble/webhook-signing/v1/${projectId}`, 32),
      );
      secret = `whsec_${bytes.toString('base64url')}`;
      this.#secrets.set(projectId, secret);
    }
    return secret;
  }

  sign(projectId: string, timestampSeconds: number, body: string): string {
    return signWebhook(this.secretFor(projectId), timestampSeconds, body);
  }
}

/** `t=<seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">`: what a receiver recomputes to check a delivery. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}
