import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export interface OpenApiOptions {
  version: string;
}

type SecuritySchemes = NonNullable<
  NonNullable<NonNullable<FastifyDynamicSwaggerOptions['openapi']>['components']>['securitySchemes']
>;

export const openApiPath = '/openapi.json';
export const docsPrefix = '/docs';

/**
 * The OpenAPI document, generated from the zod schemas every route declares, at `/openapi.json`,
 * and Swagger UI at `/docs`. Registered before any module so its onRoute hook sees every route;
 * routes with `schema.hide` stay out of the document.
 */
async function openApiPlugin(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ensemble API',
        description: 'Register models, compose them into pipelines and serve them through one API.',
        version: options.version,
      },
      // Filled by the authentication plugin as routes that need a key are added (a live object).
      components: {
        securitySchemes: (app.hasDecorator('apiKeySecuritySchemes')
          ? app.apiKeySecuritySchemes()
          : {}) as SecuritySchemes,
      },
    },
    transform: jsonSchemaTransform,
    // Schemas registered with an id (`.meta({ id })`) become reusable components.
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(swaggerUi, { routePrefix: docsPrefix });

  app.get(openApiPath, { schema: { hide: true } }, async () => app.swagger());
}

export default fp(openApiPlugin, { name: 'ensemble-openapi', fastify: '5.x' });
