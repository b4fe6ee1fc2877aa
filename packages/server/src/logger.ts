import { type DestinationStream, type Level, type Logger, pino } from 'pino';

export interface CreateLoggerOptions {
  level: Level | 'silent';
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /** Bound to every line, e.g. `{ service: 'ensemble-server' }`. */
  base?: Record<string, unknown>;
}

/** Request and response headers that carry credentials. */
const secretHeaders = ['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie', 'set-cookie'];
/** Field names that hold secrets wherever they appear (up to three levels deep). */
const secretFields = ['apiKey', 'password', 'secret', 'saslPassword'];

function headerPaths(): string[] {
  const containers = ['headers', 'req.headers', 'res.headers', '*.headers'];
  return containers.flatMap((container) => secretHeaders.map((header) => `${container}["${header}"]`));
}

function fieldPaths(): string[] {
  return secretFields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

/** Every path pino censors; exported so tests can prove the list covers what the brief names. */
export const redactedPaths: readonly string[] = [...headerPaths(), ...fieldPaths()];

/** Query parameters whose values look like credentials (`?api_key=`, `?token=`, `?key=`). */
const secretQueryParameter = /^(.*key|.*token|.*secret|password|sig|signature)$/i;

/** Removes credential values from a URL's query string before it is logged. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  let changed = false;
  for (const name of new Set(params.keys())) {
    if (secretQueryParameter.test(name)) {
      params.set(name, '[Redacted]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, queryStart)}?${params.toString()}` : url;
}

interface LoggableRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/** Structured JSON logs with secrets censored; hand the result to `buildApp({ logger })`. */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: options.base ?? { service: 'ensemble-server' },
      redact: { paths: [...redactedPaths], censor: '[Redacted]' },
      serializers: {
        // Fastify's default would log the raw URL, which may carry `?api_key=`.
        req: (request: LoggableRequest) => ({
          method: request.method,
          url: request.url === undefined ? undefined : redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
    },
    options.destination,
  );
}
