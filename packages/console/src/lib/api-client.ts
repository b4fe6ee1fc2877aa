import { apiKey, currentCookieSession, setApiKey, setCookieSession } from './session.ts';

/** An error the API answered with: its status, code and message are shown as they are. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly requestId: string | null;
  /** The error's `details` as the API sent them (`issues` of a validation error, for one). */
  readonly details: Record<string, unknown> | null;

  constructor(
    status: number,
    code: string,
    message: string,
    field: string | null = null,
    requestId: string | null = null,
    details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.requestId = requestId;
    this.details = details;
  }
}

/** The network failed: Ensemble is not reachable (stopped, or the browser is offline). */
export class OfflineError extends Error {
  constructor() {
    super(`Cannot reach Ensemble at ${location.origin}. Check that it runs and that you are online.`);
    this.name = 'OfflineError';
  }
}

interface ErrorBody {
  error?: {
    message?: string;
    code?: string;
    param?: string | null;
    request_id?: string;
    details?: Record<string, unknown>;
  };
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // Not JSON (a proxy's page): the status line says enough.
  }
  const message = body.error?.message ?? (text.slice(0, 300) || `${response.status} ${response.statusText}`);
  return new ApiError(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    message,
    body.error?.param ?? null,
    body.error?.request_id ?? response.headers.get('x-request-id'),
    body.error?.details ?? null,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Send this key instead of the session's (sign-in checks a key before keeping it). */
  key?: string;
  headers?: Record<string, string>;
}

/** A raw call with the session's key: the response is returned only when it is 2xx. */
export async function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const key = options.key ?? apiKey();
  const headers: Record<string, string> = { ...options.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  // Signed in with a password or SSO: the cookie goes by itself; changes carry the CSRF token.
  const session = key ? null : currentCookieSession();
  if (session !== null && (options.method ?? 'GET') !== 'GET') headers['x-ensemble-csrf'] = session.csrfToken;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData || options.body instanceof Blob) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new OfflineError();
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    // The session's key stopped working (revoked, expired): back to sign-in.
    if (response.status === 401 && options.key === undefined && key !== null) setApiKey(null);
    if (response.status === 401 && session !== null) setCookieSession(null);
    throw error;
  }
  return response;
}

/** A JSON call; 204 resolves to undefined. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiResponse(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `?a=1&b=2` from the defined entries only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Signs out: ends the cookie session on the server (with its CSRF token), and forgets any key. */
export async function signOut(): Promise<void> {
  if (currentCookieSession() !== null) {
    await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
    setCookieSession(null);
  }
  setApiKey(null);
}
