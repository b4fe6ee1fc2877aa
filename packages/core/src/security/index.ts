export * from './artifact-owners.ts';
export * from './project-role.ts';
export * from './role-matrix.ts';
