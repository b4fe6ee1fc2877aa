import { projectRoles } from '@ensemble/core';
import { z } from 'zod';

export const consoleUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    platformAdmin: z.boolean().meta({ description: 'Owner in every project, like a platform admin key' }),
    hasPassword: z.boolean().meta({ description: 'False for accounts that sign in through OpenID Connect only' }),
    createdAt: z.iso.datetime(),
    disabledAt: z.iso.datetime().nullable(),
    lastLoginAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ConsoleUser' });

export const sessionSchema = z
  .object({
    user: consoleUserSchema,
    roles: z.array(z.object({ projectId: z.string(), role: z.enum(projectRoles) })),
    csrfToken: z.string().meta({
      description: 'Send it as the x-ensemble-csrf header with every change made with the session cookie',
    }),
  })
  .meta({ id: 'ConsoleSession' });

export const loginBodySchema = z
  .strictObject({
    email: z.string().trim().min(1).max(254),
    password: z.string().min(1).max(256),
  })
  .meta({ id: 'LoginRequest' });

export function userJson(user: {
  id: string;
  email: string;
  name: string | null;
  platformAdmin: boolean;
  hasPassword: boolean;
  createdAt: Date;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
}) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    platformAdmin: user.platformAdmin,
    hasPassword: user.hasPassword,
    createdAt: user.createdAt.toISOString(),
    disabledAt: user.disabledAt?.toISOString() ?? null,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}
