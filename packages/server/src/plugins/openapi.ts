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
 * Swagger UI's Content-Security-Policy: the page loads only its own scripts and styles (no inline
 * script: the initializer is a file; one inline style element, by hash), images may be `data:` (its icons are data-URL SVGs in its CSS),
 * and "Try it out" calls this origin only. Nothing may frame it; no form posts elsewhere.
 */
export const docsContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  // Swagger UI's bundle inserts one small <style> element: allowed by its hash, not by 'unsafe-inline'
  // (the browser test fails on a violation, so an upgrade that changes it is caught).
  "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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

  await app.register(swaggerUi, {
    routePrefix: docsPrefix,
    // The validator badge would send the document to validator.swagger.io: nothing leaves for it.
    uiConfig: { validatorUrl: null },
    // Set on the plugin's own routes only (the page and its static files).
    staticCSP: docsContentSecurityPolicy,
  });

  app.get(openApiPath, { schema: { hide: true } }, async () => app.swagger());
}

export default fp(openApiPlugin, { name: 'ensemble-openapi', fastify: '5.x' });
