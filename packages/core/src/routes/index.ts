export * from './declared-routes.ts';
export * from './policy-targets.ts';
export * from './route-graph.ts';
export * from './route-policy-document.ts';
export * from './stored-route.ts';
