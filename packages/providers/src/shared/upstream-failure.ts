/** What Ensemble can read from any SDK's error, whatever its shape (OpenAI, Anthropic, AWS, Google). */
export interface UpstreamFailure {
  status: number | undefined;
  /** Seconds the upstream asked us to wait (Retry-After, retry-after-ms, Google's RetryInfo). */
  retryAfterSeconds: number | undefined;
  /** The SDK's error name or AWS exception name, e.g. `ThrottlingException`. */
  name: string;
  message: string;
  /** A network-level code such as ECONNREFUSED, when the request never got an answer. */
  networkCode: string | undefined;
}

type Bag = Record<string, unknown>;

function isBag(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null;
}

function numberAt(bag: Bag, key: string): number | undefined {
  const value = bag[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stringAt(bag: Bag, key: string): string | undefined {
  const value = bag[key];
  return typeof value === 'string' ? value : undefined;
}

/** Headers arrive as a fetch `Headers` (OpenAI, Anthropic) or a plain record (AWS `$response`). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (!isBag(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

function retryAfterFromHeaders(headers: unknown): number | undefined {
  const milliseconds = Number(headerValue(headers, 'retry-after-ms'));
  if (Number.isFinite(milliseconds) && milliseconds > 0) return Math.ceil(milliseconds / 1000);
  const value = headerValue(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Google puts the wait in the error body: `details: [{"@type": ".../google.rpc.RetryInfo", retryDelay: "34s"}]`. */
function retryAfterFromGoogleDetails(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (!isBag(detail)) continue;
    const delay = stringAt(detail, 'retryDelay');
    const match = delay === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(delay);
    if (match?.[1] !== undefined) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

function statusOf(error: Bag): number | undefined {
  const metadata = error.$metadata;
  const response = error.response;
  return (
    numberAt(error, 'status') ??
    numberAt(error, 'statusCode') ??
    (isBag(metadata) ? numberAt(metadata, 'httpStatusCode') : undefined) ??
    (isBag(response) ? numberAt(response, 'status') : undefined)
  );
}

function networkCodeOf(error: Bag): string | undefined {
  const own = stringAt(error, 'code');
  if (own !== undefined && /^E[A-Z]+$/.test(own)) return own;
  const cause = error.cause;
  return isBag(cause) ? networkCodeOf(cause) : undefined;
}

export function readUpstreamFailure(error: unknown): UpstreamFailure {
  if (!isBag(error)) {
    return {
      status: undefined,
      retryAfterSeconds: undefined,
      name: 'Error',
      message: String(error),
      networkCode: undefined,
    };
  }
  const response = error.$response;
  return {
    status: statusOf(error),
    retryAfterSeconds:
      retryAfterFromHeaders(error.headers) ??
      (isBag(response) ? retryAfterFromHeaders(response.headers) : undefined) ??
      retryAfterFromGoogleDetails(error.errorDetails),
    // Some SDKs leave `name` as 'Error' on their subclasses (Anthropic's APIConnectionTimeoutError).
    name:
      stringAt(error, 'name') === 'Error'
        ? error.constructor.name
        : (stringAt(error, 'name') ?? error.constructor.name),
    message: stringAt(error, 'message') ?? '',
    networkCode: networkCodeOf(error),
  };
}
