import {
  assertModelAllowed,
  type ChangeContext,
  EnsembleError,
  type KindExpectation,
  type ModelHealthReport,
  type ModelRuntimeManager,
  validationError,
} from '@ensemble/core';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import {
  modelNameOf,
  modelParamsSchema,
  modelPath,
  modelRefOf,
  type NameSegments,
  nameDepths,
} from '../models/model-name-params.ts';
import { noQuerySchema } from '../models/model-schemas.ts';
import { chatCallOptions, chatInput, finishReasonOf, roundMs, usageOf } from './chat-call.ts';
import { clientSignal } from './client-signal.ts';
import {
  deployResultSchema,
  healthReportSchema,
  type InvokeBody,
  invokeBodySchema,
  invokeResultSchema,
} from './invoke-schemas.ts';
import { streamChat } from './stream-chat.ts';

export interface ModelRuntimeModuleOptions {
  /** Bounds an invoke (a whole stream included) and a deploy; generous, since local models are slow. */
  invokeTimeoutMs?: number;
}

const error = openAiErrorBodySchema;
const errors = { 400: error, 404: error, 409: error, 429: error, 500: error, 502: error, 503: error, 504: error };
const tags = ['model runtimes'];

const chatExpectation: KindExpectation = {
  kinds: ['chat'],
  as: 'a chat model',
  hint: 'send {input} to embedding and classifier models',
  field: 'body.messages',
};
const inputExpectation: KindExpectation = {
  kinds: ['embedding', 'classifier'],
  as: 'an embedding or classifier model',
  hint: 'chat models take {messages}',
  field: 'body.input',
};

/** Who changed what: the API key that asked (its id), and the request id to trace the change. */
function changeContext(request: FastifyRequest): ChangeContext {
  return { actor: request.principal.keyId ?? 'api', traceId: request.id };
}

/** The model a URL names, if the caller's key may use it (403 otherwise). */
function allowedName(request: FastifyRequest<{ Params: NameSegments }>): string {
  const name = modelNameOf(request.params);
  assertModelAllowed(request.principal, name, 'params.name');
  return name;
}

/** Which operation a body asks for; a body that mixes them, or asks for neither, is a 400. */
function expectationOf(body: InvokeBody): KindExpectation {
  if (body.messages !== undefined && body.input !== undefined) {
    throw validationError(
      'body.input',
      'give either messages (chat models) or input (embedding, classifier), not both',
    );
  }
  if (body.messages !== undefined) return chatExpectation;
  if (body.input === undefined) {
    throw validationError('body', 'send {messages} to a chat model, or {input} to an embedding or classifier model');
  }
  if (body.stream !== undefined) throw validationError('body.stream', 'only chat models ({messages}) stream');
  if (body.parameters !== undefined)
    throw validationError('body.parameters', 'only chat models ({messages}) take parameters');
  return inputExpectation;
}

function healthJson(report: ModelHealthReport) {
  return {
    ...report,
    runtimes: report.runtimes.map((record) => ({
      ...record,
      checkedAt: record.checkedAt?.toISOString() ?? null,
      lastErrorAt: record.lastErrorAt?.toISOString() ?? null,
    })),
  };
}

/**
 * `/api/models/{name}/invoke`, `…/deploy`, `…/undeploy`, `…/health`: calling the registry's models
 * through their runtimes. Names are written raw in the path (`/api/models/local/all-minilm-l6-v2/invoke`);
 * invoke takes a ref (`…@2/invoke`, `…:production/invoke`). The project is the API key's; a key
 * limited to some models may invoke only those (403).
 */
export function modelRuntimeModule(
  manager: ModelRuntimeManager,
  options: ModelRuntimeModuleOptions = {},
): FastifyPluginAsyncZod {
  const invokeTimeoutMs = options.invokeTimeoutMs ?? 10 * 60_000;
  return async (app) => {
    for (const depth of nameDepths) {
      const hide = depth > 1;
      const params = modelParamsSchema(depth, {});

      app.post(
        modelPath(depth, '/invoke'),
        {
          // A stream may run for minutes: hold scale-in protection, and allow more than the default timeout.
          config: { scaleInProtection: true },
          handlerTimeout: invokeTimeoutMs,
          schema: {
            hide,
            tags,
            summary: 'Invoke a model: chat, embed or classify, by its kind',
            description:
              'Chat: `{messages, parameters?, stream?}` → `{message, usage, finishReason, latencyMs}`; with `stream: true` ' +
              'the answer is `text/event-stream`: `event: token` (`{"delta": …}`) events, then `event: done` ' +
              '(usage), or `event: error` (the error body) if the model fails mid-answer. Embedding: `{input}` → ' +
              '`{embeddings, dimensions}`. Classifier: `{input}` → `{results}` (labels best first). A body for ' +
              'another kind is a 400.',
            params,
            querystring: noQuerySchema,
            body: invokeBodySchema,
            response: { 200: invokeResultSchema, ...errors },
          },
        },
        async (request, reply) => {
          const { body, principal } = request;
          const ref = modelRefOf(request.params);
          // Before anything is looked up, so a key learns nothing about models it may not call.
          assertModelAllowed(principal, ref, 'params.name');
          const expectation = expectationOf(body);
          const { descriptor, runtime } = await manager.runtimeFor(principal.projectId, ref, expectation);
          const model = { model: descriptor.name, version: descriptor.version };
          const started = performance.now();

          if (body.messages !== undefined) {
            const chat = requirePart(runtime.chat, descriptor.name);
            if (body.stream === true) {
              await streamChat(request, reply, {
                chat,
                messages: body.messages,
                parameters: body.parameters,
                ...model,
                maxDurationMs: invokeTimeoutMs,
              });
              return reply;
            }
            const message = await chat.invoke(
              chatInput(body.messages),
              chatCallOptions(body.parameters, clientSignal(reply)),
            );
            return {
              message: { role: 'assistant' as const, content: message.text },
              usage: usageOf(message),
              finishReason: finishReasonOf(message),
              ...model,
              latencyMs: roundMs(performance.now() - started),
            };
          }

          const texts = typeof body.input === 'string' ? [body.input] : (body.input ?? []);
          if (runtime.kind === 'embedding') {
            const embeddings = await requirePart(runtime.embeddings, descriptor.name).embedDocuments(texts);
            return {
              embeddings,
              dimensions: embeddings[0]?.length ?? 0,
              ...model,
              latencyMs: roundMs(performance.now() - started),
            };
          }
          const results = await requirePart(runtime.classifier, descriptor.name).invoke(texts, {
            signal: clientSignal(reply),
          });
          return { results, ...model, latencyMs: roundMs(performance.now() - started) };
        },
      );

      app.post(
        modelPath(depth, '/deploy'),
        {
          handlerTimeout: invokeTimeoutMs,
          schema: {
            hide,
            tags,
            summary: 'Deploy a model: load it (local) or check it (hosted)',
            description:
              'Status goes `deploying`, then `ready`; on failure `failed` with the reason, and the error is the answer.',
            params,
            querystring: noQuerySchema,
            response: { 200: deployResultSchema, ...errors },
          },
        },
        async (request) => {
          const name = allowedName(request);
          const deployed = await manager.deploy(request.principal.projectId, name, changeContext(request));
          return {
            projectId: deployed.projectId,
            name: deployed.name,
            version: deployed.version,
            status: deployed.status,
          };
        },
      );

      app.post(
        modelPath(depth, '/undeploy'),
        {
          schema: {
            hide,
            tags,
            summary: 'Undeploy a model: free what its runtimes hold',
            description: 'Status goes back to `registered` (a retired model stays retired).',
            params,
            querystring: noQuerySchema,
            response: { 200: deployResultSchema, ...errors },
          },
        },
        async (request) => {
          const model = await manager.undeploy(
            request.principal.projectId,
            allowedName(request),
            changeContext(request),
          );
          return { projectId: model.projectId, name: model.name, version: model.version, status: model.status };
        },
      );

      app.get(
        modelPath(depth, '/health'),
        {
          schema: {
            hide,
            tags,
            summary: "A model's last health checks (latency, last error), per loaded version",
            params,
            querystring: noQuerySchema,
            response: { 200: healthReportSchema, ...errors },
          },
        },
        async (request) => healthJson(await manager.healthReport(request.principal.projectId, allowedName(request))),
      );

      app.post(
        modelPath(depth, '/health'),
        {
          handlerTimeout: invokeTimeoutMs,
          schema: {
            hide,
            tags,
            summary: 'Check a model now (loading it if needed)',
            params,
            querystring: noQuerySchema,
            response: { 200: healthReportSchema, ...errors },
          },
        },
        async (request) =>
          healthJson(await manager.health(request.principal.projectId, allowedName(request), changeContext(request))),
      );
    }
  };
}

/** A provider that built a runtime without the part its kind promises is a bug, not the caller's fault. */
function requirePart<T>(part: T | undefined, name: string): T {
  if (part === undefined)
    throw new EnsembleError('internal_error', `the runtime of model '${name}' does not carry what its kind needs`);
  return part;
}
