import { assertModelAllowed, type ModelDescriptor, type RouteLookup } from '@ensemble/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cacheControlHeader, cacheStatusHeader, type GatewayBody, type GatewayCall } from './gateway-call.ts';
import type { WireAnswer } from './pass-through.ts';
import { readUsage } from './read-usage.ts';
import { completionAsStream, promptText, requestShape, type SemanticAnswers } from './semantic-answers.ts';

/** Says what the semantic cache did for a call: `hit` (answered from it) or `miss`. */
export const semanticCacheHeader = 'x-ensemble-semantic-cache';

export type SemanticStep =
  | { answered: true }
  | {
      answered: false;
      /** Keeps a whole answer the call got upstream (off the request path); absent when the cache is not in play. */
      keep?: (
        answer: Pick<WireAnswer, 'body'>,
        descriptor: Pick<ModelDescriptor, 'name' | 'version' | 'provider'>,
      ) => void;
    };

const notInPlay: SemanticStep = { answered: false };

/**
 * The semantic cache's part of a chat call (or a Responses call, run as one), before any upstream is called: when the requested name is
 * a route whose `semanticCache` is enabled (and the client did not send `x-ensemble-cache: no-store`),
 * the prompt is looked up among the answers of the same project, route and request shape (tools,
 * response format, sampling: `requestShape`). A hit is answered here —
 * the kept `chat.completion`, or that answer as a stream — with `x-ensemble-cache-status: hit`, and its
 * usage event says `cacheHit` at zero cost; a miss gives the call a `keep` for its answer. The cache
 * failing (its embedding model gone, the index unreachable) never fails the call: it is skipped, with a
 * warning.
 */
export async function semanticCacheStep(
  semantic: SemanticAnswers,
  routes: RouteLookup,
  request: FastifyRequest<{ Body: GatewayBody }>,
  reply: FastifyReply,
  call: GatewayCall,
  /** Answers a hit in another API's shape (`/v1/responses`); by default the chat completion (or its stream). */
  sendHit?: (completionJson: string) => void,
): Promise<SemanticStep> {
  const { body, principal } = request;
  if (request.headers[cacheControlHeader] !== undefined) return notInPlay;
  if (body.n !== undefined && body.n !== 1) return notInPlay;
  const route = await routes.current(principal.projectId, body.model);
  const policy = route?.policy.semanticCache;
  if (route === undefined || policy === undefined || !policy.enabled) return notInPlay;
  const prompt = promptText(body.messages);
  if (prompt === undefined) return notInPlay;
  assertModelAllowed(principal, body.model);
  // Per route and request shape: the same prompt under other tools or sampling is another question.
  const namespace = `${route.name}#${requestShape(body)}`;

  let hit: Awaited<ReturnType<SemanticAnswers['lookup']>>;
  try {
    hit = await semantic.lookup(principal.projectId, namespace, policy, prompt);
  } catch (error) {
    request.log.warn({ err: error, route: route.name }, 'semantic cache skipped: lookup failed');
    return notInPlay;
  }
  if (hit === undefined) {
    reply.header(semanticCacheHeader, 'miss');
    return {
      answered: false,
      keep: (answer, descriptor) => {
        const kept = {
          body: answer.body.toString('utf8'),
          target: { name: descriptor.name, version: descriptor.version, provider: descriptor.provider },
        };
        semantic.store(principal.projectId, namespace, policy, prompt, kept).catch((error: unknown) => {
          request.log.warn({ err: error, route: route.name }, 'semantic cache: answer not kept');
        });
      },
    };
  }

  const { meter } = call;
  const target = `${hit.target.name}@${hit.target.version}`;
  meter.route(route.name);
  meter.target({ descriptor: { ...hit.target, pricing: undefined }, route: route.name, attempts: 0 });
  meter.cache('hit');
  reply.header('x-ensemble-target', target);
  reply.header('x-ensemble-model-version', String(hit.target.version));
  reply.header('x-ensemble-route', `${route.name}@${route.version}`);
  reply.header(cacheStatusHeader, 'hit');
  reply.header(semanticCacheHeader, 'hit');
  reply.header('x-ensemble-cache-similarity', hit.similarity.toFixed(4));
  const usage = readUsage(hit.body);
  if (sendHit !== undefined) {
    if (body.stream === true) meter.firstChunk();
    meter.succeed(usage);
    sendHit(hit.body);
  } else if (body.stream === true) {
    const includeUsage = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage;
    const stream = completionAsStream(hit.body, includeUsage === true);
    meter.firstChunk();
    meter.succeed(usage);
    reply.header('cache-control', 'no-cache').type('text/event-stream').send(stream);
  } else {
    meter.succeed(usage);
    reply.type('application/json').send(hit.body);
  }
  return { answered: true };
}
