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

/**
 * A console user signed in with a password or SSO: the session itself is an HTTP-only cookie the
 * page never sees; what the page keeps is who it is and the CSRF token its changes must carry.
 */
export interface CookieSession {
  email: string;
  csrfToken: string;
}

let cookieSession: CookieSession | null = null;

export function currentCookieSession(): CookieSession | null {
  return cookieSession;
}

export function setCookieSession(session: CookieSession | null): void {
  cookieSession = session;
  for (const listener of listeners) listener();
}

/** Whether anyone is signed in, by key or by session cookie. */
export function signedIn(): boolean {
  return current !== null || cookieSession !== null;
}
