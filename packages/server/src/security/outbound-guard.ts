import { lookup as dnsLookup } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4, type LookupFunction } from 'node:net';
import { EnsembleError } from '@ensemble/core';
import { Agent, buildConnector, type Dispatcher, fetch as undiciFetch } from 'undici';

/**
 * Addresses no user-supplied URL may reach unless the operator allows them: loopback, private
 * networks, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, "this
 * network", unique-local and the IPv4 ranges as seen through IPv6 (mapped, NAT64).
 */
const internal = new BlockList();
for (const [address, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(address, bits, 'ipv4');
}
for (const [address, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  internal.addSubnet(address, bits, 'ipv6');
}

export interface OutboundPolicy {
  /** Internal ranges (CIDR) user-supplied URLs may reach anyway, e.g. `10.1.0.0/16` for a model server. */
  allowedNetworks: readonly string[];
  /** When set, only these host names (exact, or `.example.com` for its subdomains) may be reached. */
  allowedHosts: readonly string[];
}

/**
 * The outbound-URL guard against server-side request forgery. A URL a user gives Ensemble (a model's
 * `baseUrl`, a webhook, a pipeline's `http` step) is checked when it is saved — scheme, host
 * allow-list, and every address its name resolves to — and again when Ensemble connects (the check
 * runs in the connection's own DNS lookup, so a name that resolves elsewhere by then is caught) and on
 * every redirect.
 */
export class OutboundGuard {
  readonly #allowed = new BlockList();
  readonly #hosts: readonly string[];
  readonly #agent: Agent;
  readonly #callAgent: Agent;
  readonly #lookup: LookupFunction;

  constructor(policy: OutboundPolicy) {
    for (const range of policy.allowedNetworks) {
      const [address, bits] = range.split('/') as [string, string | undefined];
      const v4 = isIPv4(address);
      this.#allowed.addSubnet(address, Number(bits ?? (v4 ? 32 : 128)), v4 ? 'ipv4' : 'ipv6');
    }
    this.#hosts = policy.allowedHosts.map((host) => host.toLowerCase());
    this.#lookup = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 4);
        const list = addresses as unknown as Array<{ address: string; family: number }>;
        const refused = list.find((entry) => !this.addressAllowed(entry.address));
        if (refused !== undefined) {
          return callback(blocked('url', hostname, refused.address), '', 4);
        }
        if (options.all === true) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        const first = list[0] as { address: string; family: number };
        return callback(null, first.address, first.family);
      });
    };
    this.#agent = new Agent({ connect: this.connector({ timeout: 10_000 }) });
    // Model calls stream for minutes: their SDKs' own deadlines and the callers' signals bound them.
    this.#callAgent = new Agent({ connect: this.connector({ timeout: 10_000 }), headersTimeout: 0, bodyTimeout: 0 });
  }

  /**
   * The undici dispatcher whose every connection passes the guard (IP literals and each DNS answer),
   * for clients that take one (pipeline `http` steps). Redirects it follows connect through it too.
   */
  get dispatcher(): Dispatcher {
    return this.#callAgent;
  }

  /**
   * A `fetch` whose every connection passes the guard, for the SDKs that take one (model providers,
   * health probes, webhooks): a base URL saved while it resolved outside, or a redirect, is refused
   * when Ensemble connects. It does not re-check the URL's scheme or host list (saving did).
   */
  readonly guardedFetch: typeof globalThis.fetch = (input, init) => {
    // A `Request` of Node's own fetch (the AWS SDK sends those) is not undici's: pass its parts.
    const request =
      input instanceof Request
        ? {
            url: input.url,
            init: {
              method: input.method,
              headers: input.headers,
              signal: input.signal,
              ...(input.body === null ? {} : { body: input.body, duplex: 'half' }),
            },
          }
        : { url: input, init: {} };
    return undiciFetch(request.url as Parameters<typeof undiciFetch>[0], {
      ...(request.init as Parameters<typeof undiciFetch>[1]),
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: this.#callAgent,
    }) as unknown as Promise<Response>;
  };

  /**
   * An undici connector that refuses internal addresses when it connects: an IP literal before the
   * socket opens, a name in the connection's own DNS lookup. For dispatchers that reach URLs users gave
   * (the gateway's upstreams: models' `baseUrl`), so a URL saved before it resolved inside, or written in
   * ensemble.yaml, is still refused when it is called.
   */
  connector(options: { timeout: number }): buildConnector.connector {
    // net.connect's own `lookup` option, passed through by undici's connector.
    const connect = buildConnector({ timeout: options.timeout, lookup: this.#lookup } as buildConnector.BuildOptions);
    return (connection, callback) => {
      const host = connection.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0 && !this.addressAllowed(host)) {
        callback(blocked('url', host, host), null);
        return;
      }
      connect(connection, callback);
    };
  }

  /** Closes the guard's connection pools (kept-alive sockets would hold the process open a while). */
  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), this.#callAgent.close()]);
  }

  /** Whether Ensemble may connect to this address. */
  addressAllowed(address: string): boolean {
    const mapped = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    const family = isIPv4(mapped) ? 'ipv4' : 'ipv6';
    if (!internal.check(mapped, family)) return true;
    return this.#allowed.check(mapped, family);
  }

  /** Throws a 400 naming `field` unless the URL may be reached (http(s), allowed host, every address allowed). */
  async check(url: string, field: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new EnsembleError('validation_failed', `${field}: is not a URL`, { field });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new EnsembleError('validation_failed', `${field}: must be an http(s) URL`, { field });
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (
      this.#hosts.length > 0 &&
      !this.#hosts.some((allowed) => host === allowed || (allowed.startsWith('.') && host.endsWith(allowed)))
    ) {
      throw new EnsembleError('validation_failed', `${field}: host '${host}' is not in OUTBOUND_ALLOWED_HOSTS`, {
        field,
      });
    }
    const addresses =
      isIP(host) !== 0
        ? [host]
        : await lookup(host, { all: true, verbatim: true }).then(
            (found) => found.map((entry) => entry.address),
            () => {
              throw new EnsembleError('validation_failed', `${field}: host '${host}' does not resolve`, { field });
            },
          );
    const refused = addresses.find((address) => !this.addressAllowed(address));
    if (refused !== undefined) throw blocked(field, host, refused);
  }

  /**
   * `fetch` for user-supplied URLs: each redirect is followed by hand and checked like the first URL
   * (at most 5), and every connection's address is checked as it is made.
   */
  async fetch(
    url: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      timeoutMs: number;
      /** The request field the URL came from, named by refusals (redirects included); default `url`/`redirect`. */
      field?: string;
    },
  ) {
    let current = url;
    for (let hop = 0; hop <= 5; hop++) {
      await this.check(current, init.field ?? (hop === 0 ? 'url' : 'redirect'));
      const response = await undiciFetch(current, {
        method: init.method ?? 'GET',
        ...(init.headers === undefined ? {} : { headers: init.headers }),
        ...(init.body === undefined ? {} : { body: init.body }),
        redirect: 'manual',
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(init.timeoutMs),
      });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel();
      current = new URL(location, current).toString();
    }
    const field = init.field ?? 'url';
    throw new EnsembleError('validation_failed', `${field}: more than 5 redirects`, { field });
  }
}

function blocked(field: string, host: string, address: string): EnsembleError {
  return new EnsembleError(
    'validation_failed',
    `${field}: '${host}' is ${address}, an internal address Ensemble does not call (allow its range in OUTBOUND_ALLOWED_NETWORKS)`,
    { field, details: { reason: 'internal_address' } },
  );
}
