import type { RouteVersion, StoredRoute } from '@ensemble/core';

export function routeVersionJson(version: RouteVersion) {
  return {
    version: version.version,
    policy: version.policy as unknown as Record<string, unknown>,
    description: version.description,
    targets: version.targets,
    createdAt: version.createdAt.toISOString(),
    createdBy: version.createdBy,
  };
}

export function routeJson(route: StoredRoute) {
  return {
    projectId: route.projectId,
    name: route.name,
    status: route.status,
    currentVersion: route.currentVersion,
    latestVersion: route.latestVersion,
    current: routeVersionJson(route.current),
    createdAt: route.createdAt.toISOString(),
    updatedAt: route.updatedAt.toISOString(),
    updatedBy: route.updatedBy,
  };
}

export function routeVersionSummaryJson(version: RouteVersion) {
  return {
    version: version.version,
    description: version.description,
    createdAt: version.createdAt.toISOString(),
    createdBy: version.createdBy,
  };
}
