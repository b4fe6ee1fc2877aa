/** A failed health probe, shaped like the SDKs' errors (`status`, `headers`) so one mapper reads all. */
export class HttpProbeError extends Error {
  override readonly name = 'HttpProbeError';
  readonly status: number;
  readonly headers: Headers;

  constructor(status: number, headers: Headers, message: string) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * A cheap authenticated GET (a provider's "retrieve model" or "list models" endpoint): it proves
 * the endpoint is reachable and the key accepted, without spending tokens.
 */
export async function probeHttp(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  /** The outbound guard's fetch, when the runtime was given one. */
  send: typeof fetch = fetch,
): Promise<void> {
  const response = await send(url, { headers, signal });
  const body = await response.text();
  if (!response.ok) throw new HttpProbeError(response.status, response.headers, body.slice(0, 500));
}
