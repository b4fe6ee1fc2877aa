import { Agent, type buildConnector } from 'undici';

/**
 * The HTTP client of the pass-through: one undici `Agent`, which keeps a keep-alive connection
 * pool per upstream origin, shared by every request of the process (no per-request `fetch`, no
 * web streams). Closed with the app.
 */
export function createUpstreamDispatcher(connector?: buildConnector.connector): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: 512,
    pipelining: 1,
    // With the SSRF guard's connector every new connection's address is checked (kept-alive ones are not re-checked).
    connect: connector ?? { timeout: 10_000 },
  });
}
