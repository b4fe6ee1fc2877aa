import { useSyncExternalStore } from 'react';
import { apiKey, subscribeToSession } from '../lib/session.ts';

/** The signed-in key (null: signed out), re-rendering when it changes. */
export function useApiKey(): string | null {
  return useSyncExternalStore(subscribeToSession, apiKey);
}
