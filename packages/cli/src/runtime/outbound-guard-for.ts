import type { EnsembleConfig } from '@ensemble/core';
import { OutboundGuard } from '@ensemble/server';

const guards = new WeakMap<EnsembleConfig, OutboundGuard>();

/**
 * The process's SSRF guard for this configuration (one per config, so its connection pools are shared):
 * user-supplied URLs reach only public hosts unless OUTBOUND_ALLOWED_NETWORKS says. The API's checks,
 * the gateway's upstreams, the model SDKs and probes, webhooks and pipeline `http` steps all use it.
 */
export function outboundGuardFor(config: EnsembleConfig): OutboundGuard {
  let guard = guards.get(config);
  if (guard === undefined) {
    guard = new OutboundGuard({
      allowedNetworks: config.auth.outboundAllowedNetworks,
      allowedHosts: config.auth.outboundAllowedHosts,
    });
    guards.set(config, guard);
  }
  return guard;
}
