/**
 * The API key the console calls with. Kept in memory and in sessionStorage only (gone when the tab
 * closes; never in localStorage or a cookie), so a reload keeps the user signed in.
 */
const storageKey = 'ensemble.apiKey';
let current: string | null = readStored();
const listeners = new Set<() => void>();

function readStored(): string | null {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

export function apiKey(): string | null {
  return current;
}

export function setApiKey(key: string | null): void {
  current = key;
  try {
    if (key === null) sessionStorage.removeItem(storageKey);
    else sessionStorage.setItem(storageKey, key);
  } catch {
    // Storage may be disabled: the key then lives in memory for this page only.
  }
  for (const listener of listeners) listener();
}

export function subscribeToSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
