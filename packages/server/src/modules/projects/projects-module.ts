import { notFound, type Project, type ProjectRepository } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import {
  createProjectBodySchema,
  listProjectsQuerySchema,
  projectListSchema,
  projectParamsSchema,
  projectSchema,
} from './project-schemas.ts';

const errors = { 400: openAiErrorBodySchema, 404: openAiErrorBodySchema, 503: openAiErrorBodySchema };

/** `/api/projects`: the tenants everything else belongs to; listing and creating them takes an admin key. */
export function projectsModule(projects: ProjectRepository): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/projects',
      {
        config: { adminOnly: true },
        schema: {
          tags: ['projects'],
          summary: 'List projects (admin keys only)',
          querystring: listProjectsQuerySchema,
          response: { 200: projectListSchema, ...errors },
        },
      },
      async (request) => {
        const page = await projects.list(request.query);
        return { data: page.items.map(toJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.get(
      '/api/projects/:id',
      {
        schema: {
          tags: ['projects'],
          summary: "Get a project (any project with an admin key, else the key's own)",
          params: projectParamsSchema,
          response: { 200: projectSchema, ...errors },
        },
      },
      async (request) => {
        const { principal } = request;
        // To a key of one project no other project exists (404, not 403: nothing learnt about it).
        if (!principal.admin && request.params.id !== principal.projectId) throw notFound('project', request.params.id);
        return toJson(await projects.get(request.params.id));
      },
    );

    app.post(
      '/api/projects',
      {
        config: { adminOnly: true },
        schema: {
          tags: ['projects'],
          summary: 'Create a project (admin keys only)',
          body: createProjectBodySchema,
          response: { 201: projectSchema, 409: openAiErrorBodySchema, ...errors },
        },
      },
      async (request, reply) => {
        const project = await projects.create(request.body);
        return reply.code(201).send(toJson(project));
      },
    );
  };
}

function toJson(project: Project) {
  return {
    id: project.id,
    name: project.name,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}
