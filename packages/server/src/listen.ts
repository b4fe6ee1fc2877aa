import type { EnsembleConfig } from '@ensemble/core';
import type { FastifyInstance } from 'fastify';

/** Starts accepting connections on `config.server`'s host and port; resolves with the bound address. */
export async function listen(
  app: FastifyInstance,
  server: Pick<EnsembleConfig['server'], 'host' | 'port'>,
): Promise<string> {
  return app.listen({ host: server.host, port: server.port });
}
