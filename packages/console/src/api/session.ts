import { useSyncExternalStore } from 'react';
import { apiKey, signedIn, subscribeToSession } from '../lib/session.ts';

/** The signed-in key (null: signed out), re-rendering when it changes. */
export function useApiKey(): string | null {
  return useSyncExternalStore(subscribeToSession, apiKey);
}

/** Whether the console is signed in (a key, or a password/SSO session), re-rendering when it changes. */
export function useSignedIn(): boolean {
  return useSyncExternalStore(subscribeToSession, signedIn);
}
