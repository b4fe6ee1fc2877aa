import {
  EnsembleError,
  newConsoleUserSchema,
  type Principal,
  type ProjectMember,
  type ProjectRole,
  projectRoleSchema,
  projectRoles,
  roleIncludes,
  type UserStore,
} from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openAiErrorBodySchema } from '../../errors/openai-error-body.ts';
import { consoleUserSchema, userJson } from '../auth/auth-schemas.ts';

const errors = {
  400: openAiErrorBodySchema,
  401: openAiErrorBodySchema,
  403: openAiErrorBodySchema,
  404: openAiErrorBodySchema,
  409: openAiErrorBodySchema,
  503: openAiErrorBodySchema,
};
const tags = ['users'];

const memberSchema = consoleUserSchema
  .extend({ projectId: z.string(), role: z.enum(projectRoles) })
  .meta({ id: 'ProjectMember' });
const memberListSchema = z
  .object({ data: z.array(memberSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ProjectMemberList' });
const userParamsSchema = z.strictObject({
  id: z.string().regex(/^usr_[A-Za-z0-9]{16}$/, 'must be a user id such as usr_AbCdEf0123456789'),
});
const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().max(100).optional(),
});
const newUserBodySchema = newConsoleUserSchema.meta({
  id: 'NewConsoleUser',
  description: "The account gets `role` in the caller's project; omit `password` for OpenID Connect sign-in only",
});
const roleBodySchema = z.strictObject({ role: projectRoleSchema }).meta({ id: 'ProjectRoleChange' });

function memberJson(member: ProjectMember) {
  return { ...userJson(member), projectId: member.projectId, role: member.role };
}

/**
 * `/api/users`: console users of the caller's project (the `admin` role or above). Accounts are
 * platform-wide, roles per project; a user with no role in the project does not exist here (404).
 * Every change is audit-logged by rule. Disabling an account that belongs to other projects too takes
 * a platform admin.
 */
export function usersModule(users: UserStore): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/users',
      {
        schema: {
          tags,
          summary: "Create a console user with a role in the project (the 'admin' role or above)",
          body: newUserBodySchema,
          response: { 201: memberSchema, ...errors },
        },
      },
      async (request, reply) => {
        assertMayGrant(request.principal, request.body.role, request.body.platformAdmin);
        const member = await users.create(request.principal.projectId, request.body);
        request.log.info({ userId: member.id, projectId: member.projectId, role: member.role }, 'console user created');
        return reply.code(201).send(memberJson(member));
      },
    );

    app.get(
      '/api/users',
      {
        schema: {
          tags,
          summary: "List the project's console users and their roles, by email",
          querystring: listQuerySchema,
          response: { 200: memberListSchema, ...errors },
        },
      },
      async (request) => {
        const { limit, after } = request.query;
        const page = await users.list(request.principal.projectId, {
          limit,
          ...(after === undefined ? {} : { after }),
        });
        return { data: page.items.map(memberJson), nextCursor: page.nextCursor ?? null };
      },
    );

    app.get(
      '/api/users/:id',
      {
        schema: {
          tags,
          summary: 'Get a console user of the project',
          params: userParamsSchema,
          response: { 200: memberSchema, ...errors },
        },
      },
      async (request) => memberJson(await users.get(request.principal.projectId, request.params.id)),
    );

    app.put(
      '/api/users/:id/role',
      {
        schema: {
          tags,
          summary: "Set a user's role in the project (never above the caller's own)",
          params: userParamsSchema,
          body: roleBodySchema,
          response: { 200: memberSchema, ...errors },
        },
      },
      async (request) => {
        const { principal } = request;
        const current = await users.get(principal.projectId, request.params.id);
        assertMayGrant(principal, current.role, false);
        assertMayGrant(principal, request.body.role, false);
        return memberJson(await users.setRole(principal.projectId, request.params.id, request.body.role));
      },
    );

    app.delete(
      '/api/users/:id',
      {
        schema: {
          tags,
          summary: 'Remove a user from the project (the account stays, with its other projects)',
          params: userParamsSchema,
          response: { 200: memberSchema, ...errors },
        },
      },
      async (request) => {
        const { principal } = request;
        const current = await users.get(principal.projectId, request.params.id);
        assertMayGrant(principal, current.role, false);
        return memberJson(await users.removeMember(principal.projectId, request.params.id));
      },
    );

    app.post(
      '/api/users/:id/disable',
      {
        schema: {
          tags,
          summary: 'Disable an account and end its sessions (an account in other projects too: platform admins only)',
          params: userParamsSchema,
          response: { 200: memberSchema, ...errors },
        },
      },
      async (request) => {
        const { principal } = request;
        const current = await users.get(principal.projectId, request.params.id);
        assertMayGrant(principal, current.role, false);
        return memberJson(await users.disable(principal.projectId, request.params.id, principal.admin));
      },
    );
  };
}

/** No one grants more than they hold: a role above the caller's, or platform admin from a project caller. */
function assertMayGrant(caller: Principal, role: ProjectRole, platformAdmin: boolean): void {
  if (platformAdmin && !caller.admin) {
    throw new EnsembleError('forbidden', 'Only a platform admin may make platform admin users', {
      field: 'body.platformAdmin',
    });
  }
  if (!caller.admin && !roleIncludes(caller.role, role)) {
    throw new EnsembleError('forbidden', `A '${caller.role}' caller may not manage a '${role}' user`, {
      field: 'body.role',
    });
  }
}
