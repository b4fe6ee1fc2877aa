import { errorFrom, OfflineError } from './api-client.ts';
import { apiKey, currentCookieSession, setApiKey, setCookieSession } from './session.ts';

/**
 * Sends a body with the session's key and reports the bytes sent as they go. `fetch` cannot report
 * upload progress, so this one call goes through XMLHttpRequest; errors are the API's, as with `api`.
 */
export function uploadWithProgress<T>(
  path: string,
  body: Blob | string,
  {
    headers = {},
    signal,
    onProgress,
  }: { headers?: Record<string, string>; signal?: AbortSignal; onProgress: (sent: number, total: number) => void },
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    const key = apiKey();
    if (key) request.setRequestHeader('authorization', `Bearer ${key}`);
    // Signed in with a password or SSO: the cookie goes by itself (same origin); a POST carries the CSRF token.
    const session = key ? null : currentCookieSession();
    if (session !== null) request.setRequestHeader('x-ensemble-csrf', session.csrfToken);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    request.onerror = () => reject(new OfflineError());
    request.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    request.onload = async () => {
      const response = new Response(request.responseText, {
        status: request.status,
        headers: { 'content-type': request.getResponseHeader('content-type') ?? 'application/json' },
      });
      if (request.status >= 200 && request.status < 300) {
        resolve({ status: request.status, body: (request.responseText ? JSON.parse(request.responseText) : {}) as T });
        return;
      }
      if (request.status === 401 && key !== null) setApiKey(null);
      if (request.status === 401 && session !== null) setCookieSession(null);
      reject(await errorFrom(response));
    };
    signal?.addEventListener('abort', () => request.abort(), { once: true });
    request.send(body);
  });
}
