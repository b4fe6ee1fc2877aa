export * from './hmac-webhook-signer.ts';
