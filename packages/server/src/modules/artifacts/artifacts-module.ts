import type { Readable } from 'node:stream';
import { type ArtifactOwners, type ArtifactStore, EnsembleError } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import { artifactListSchema, artifactParamsSchema, artifactSchema, uploadHeadersSchema } from './artifact-schemas.ts';

const errors = { 400: openAiErrorBodySchema, 404: openAiErrorBodySchema, 503: openAiErrorBodySchema };

export interface ArtifactsModuleOptions {
  artifacts: ArtifactStore;
  /** Which project uploaded what: a project sees only its own uploads (the store itself is shared). */
  owners: ArtifactOwners;
  /** Largest file accepted (model weights run to gigabytes); larger uploads get 413. */
  uploadLimitBytes: number;
}

/**
 * `/api/artifacts`: upload a model file (a GGUF, say) by streaming its bytes, then register a model
 * that names it by sha256. The body is never buffered: it flows into the content-addressed store,
 * hashed on the way.
 */
export function artifactsModule({
  artifacts,
  owners,
  uploadLimitBytes,
}: ArtifactsModuleOptions): FastifyPluginAsyncZod {
  return async (app) => {
    // Scoped to this plugin: only this module takes raw bytes.
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

    app.post(
      '/api/artifacts',
      {
        bodyLimit: uploadLimitBytes,
        config: { scaleInProtection: true },
        schema: {
          tags: ['artifacts'],
          summary: 'Upload a model file (application/octet-stream); answers its sha256',
          headers: uploadHeadersSchema,
          response: { 201: artifactSchema, 409: openAiErrorBodySchema, 413: openAiErrorBodySchema, ...errors },
        },
      },
      async (request, reply) => {
        if (!request.headers['content-type']?.startsWith('application/octet-stream')) {
          throw new EnsembleError('unsupported_media_type', 'upload the file as application/octet-stream', {
            field: 'headers.content-type',
          });
        }
        const expected = request.headers['x-ensemble-sha256'];
        const body = request.body as Readable;
        const aborted = new AbortController();
        request.raw.once('close', () => {
          if (!request.raw.complete) aborted.abort();
        });
        const info = await artifacts
          .put(body, { signal: aborted.signal, ...(expected === undefined ? {} : { expectedSha256: expected }) })
          .catch((error: unknown) => {
            // The client said which content it sent: a different digest is its mistake, not a corrupt store.
            if (error instanceof EnsembleError && error.code === 'artifact_corrupt' && expected !== undefined) {
              throw new EnsembleError('validation_failed', `the uploaded content does not hash to ${expected}`, {
                field: 'headers.x-ensemble-sha256',
                cause: error,
              });
            }
            throw error;
          });
        if (info.sizeBytes === 0) {
          await artifacts.delete(info.sha256);
          throw new EnsembleError('validation_failed', 'the upload is empty', { field: 'body' });
        }
        await owners.record(request.principal.projectId, info.sha256);
        return reply.code(201).send(info);
      },
    );

    app.get(
      '/api/artifacts',
      {
        schema: {
          tags: ['artifacts'],
          summary: 'List stored artifacts',
          response: { 200: artifactListSchema, ...errors },
        },
      },
      async (request) => {
        const own = await owners.list(request.principal.projectId);
        return { data: (await artifacts.list()).filter((artifact) => own.has(artifact.sha256)) };
      },
    );

    app.get(
      '/api/artifacts/:sha256',
      {
        schema: {
          tags: ['artifacts'],
          summary: 'Check a stored artifact (re-hashes it)',
          params: artifactParamsSchema,
          response: { 200: artifactSchema, ...errors },
        },
      },
      async (request) => {
        const { sha256 } = request.params;
        // Another project's upload does not exist for this one, exactly like content never uploaded.
        if (!(await owners.owns(request.principal.projectId, sha256))) {
          throw new EnsembleError('not_found', `artifact '${sha256}' does not exist`);
        }
        return artifacts.verify(sha256).catch((error: unknown) => {
          // The store's own message names its folder, which is nobody's business outside.
          if (error instanceof EnsembleError && error.code === 'not_found') {
            throw new EnsembleError('not_found', `artifact '${request.params.sha256}' does not exist`, {
              cause: error,
            });
          }
          throw error;
        });
      },
    );
  };
}
