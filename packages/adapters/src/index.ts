// Each adapter family is also its own subpath (`@ensemble/adapters/postgres`, `/embedded`, `/kafka`),
// so a composition root loads only the clients it uses.
export * from './embedded/index.ts';
export * from './postgres/index.ts';
