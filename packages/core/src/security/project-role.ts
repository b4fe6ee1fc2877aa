import { z } from 'zod';

/**
 * What a key (later a console user) may do within its project, weakest first. Each role includes the
 * ones before it: `viewer` reads, `developer` also uses and builds (invokes models, registers models
 * and routes, runs jobs), `admin` also manages keys and credentials, `owner` also makes other owners.
 */
export const projectRoles = ['viewer', 'developer', 'admin', 'owner'] as const;

export type ProjectRole = (typeof projectRoles)[number];

export const projectRoleSchema = z.enum(projectRoles);

const rank: Record<ProjectRole, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

/** Whether `role` includes `required` (an owner may do what a viewer may). */
export function roleIncludes(role: ProjectRole, required: ProjectRole): boolean {
  return rank[role] >= rank[required];
}
