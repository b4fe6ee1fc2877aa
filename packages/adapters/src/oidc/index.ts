export * from './openid-client-sign-in.ts';
