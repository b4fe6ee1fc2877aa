import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProjectRole, projectRoles } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { type EnsembleProcess, spawnEnsemble } from './ensemble-process.ts';

export interface HttpAnswer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  body: any;
  headers: Headers;
}

/** One operation of the OpenAPI document: its method and path template (`/api/keys/{id}`). */
export interface Operation {
  method: string;
  path: string;
  /** The Fastify template (`/api/keys/:id`), as the role matrix names routes. */
  route: string;
}

export interface SecurityHarness {
  ensemble: EnsembleProcess;
  /** The database the instances share, for checks the API cannot make. */
  databaseUrl: string;
  /** Bearer headers of a key of each role in `default` (project A) and `team-b` (project B). */
  keys: Record<'a' | 'b', Record<ProjectRole, Record<string, string>>>;
  keyIds: Record<'a' | 'b', Record<ProjectRole, string>>;
  /**
   * Console sessions of a user of each role in each project: the session cookie and the CSRF header,
   * to spread into a request's headers like a key's.
   */
  sessions: Record<'a' | 'b', Record<ProjectRole, Record<string, string>>>;
  userIds: Record<'a' | 'b', Record<ProjectRole, string>>;
  platform: Record<string, string>;
  call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<HttpAnswer>;
  /** A second (third, …) Ensemble on the same database, stopped by `close`. */
  another(): Promise<EnsembleProcess>;
  /** Every operation the API documents that needs a key (`/v1`, `/api`, and any other protected prefix). */
  operations(): Promise<Operation[]>;
  close(): Promise<void>;
}

/**
 * A real `ensemble start` on a fresh database with two projects, `default` (A) and `team-b` (B), and a
 * key of every role in each, for the attack suites (role matrix, tenant isolation).
 */
export async function openSecurityHarness(
  prefix: string,
  { env = {}, worker = false }: { env?: Record<string, string>; worker?: boolean } = {},
): Promise<SecurityHarness> {
  const database: TestDatabase = await createTestDatabase(prefix);
  const home = await mkdtemp(join(tmpdir(), `ensemble-${prefix}-`));
  const spawnInstance = (n: number) =>
    spawnEnsemble(['start', ...(worker ? [] : ['--no-worker'])], {
      DATABASE_URL: database.url,
      ENSEMBLE_HOME: join(home, String(n)),
      ...env,
    });
  const others: EnsembleProcess[] = [];
  const ensemble = await spawnInstance(0);
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    // The Pinecone-compatible API takes the key as `Api-Key`, like Pinecone.
    if (path.includes('/pinecone/') && headers.authorization !== undefined) {
      const { authorization, ...rest } = headers;
      headers = { ...rest, 'api-key': authorization.replace(/^Bearer /, '') };
    }
    // A full URL reaches another instance; a path this one.
    const response = await fetch(path.startsWith('http') ? path : `${ensemble.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, text, body: parsed, headers: response.headers };
  };
  try {
    const platform = ensemble.auth;
    const project = await call('POST', '/api/projects', platform, { id: 'team-b', name: 'Team B' });
    if (project.status !== 201) throw new Error(`could not create team-b: ${project.text}`);
    const keys = { a: {}, b: {} } as SecurityHarness['keys'];
    const keyIds = { a: {}, b: {} } as SecurityHarness['keyIds'];
    for (const [side, projectId] of [
      ['a', 'default'],
      ['b', 'team-b'],
    ] as const) {
      for (const role of projectRoles) {
        const created = await call(
          'POST',
          '/api/keys',
          { ...platform, 'x-ensemble-project': projectId },
          { name: `${side} ${role}`, role },
        );
        if (created.status !== 201) throw new Error(`could not create a ${role} key: ${created.text}`);
        keys[side][role] = { authorization: `Bearer ${created.body.secret}` };
        keyIds[side][role] = created.body.id;
      }
    }
    const sessions = { a: {}, b: {} } as SecurityHarness['sessions'];
    const userIds = { a: {}, b: {} } as SecurityHarness['userIds'];
    for (const [side, projectId] of [
      ['a', 'default'],
      ['b', 'team-b'],
    ] as const) {
      for (const role of projectRoles) {
        const email = `${side}-${role}@example.com`;
        const password = `correct horse ${side} ${role}`;
        const created = await call(
          'POST',
          '/api/users',
          { ...platform, 'x-ensemble-project': projectId },
          { email, password, role },
        );
        if (created.status !== 201) throw new Error(`could not create a ${role} user: ${created.text}`);
        userIds[side][role] = created.body.id;
        sessions[side][role] = await signIn(ensemble.url, email, password);
      }
    }
    return {
      ensemble,
      databaseUrl: database.url,
      keys,
      keyIds,
      sessions,
      userIds,
      platform,
      call,
      async operations() {
        const document = (await call('GET', '/openapi.json', {})).body as {
          paths: Record<string, Record<string, { security?: unknown[] }>>;
        };
        const operations: Operation[] = [];
        for (const [path, methods] of Object.entries(document.paths)) {
          for (const [method, operation] of Object.entries(methods)) {
            if (operation.security === undefined || operation.security.length === 0) continue;
            operations.push({ method: method.toUpperCase(), path, route: path.replaceAll(/\{(\w+)\}/g, ':$1') });
          }
        }
        return operations;
      },
      async another() {
        const instance = await spawnInstance(others.length + 1);
        others.push(instance);
        return instance;
      },
      async close() {
        await Promise.all(others.map((instance) => instance.stop()));
        await ensemble.stop();
        await database.drop();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await ensemble.stop();
    await database.drop();
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

/** Signs in with a password; the headers a browser would send afterwards (cookie and CSRF token). */
export async function signIn(url: string, email: string, password: string): Promise<Record<string, string>> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`could not sign in as ${email}: ${response.status} ${text}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, 'x-ensemble-csrf': (JSON.parse(text) as { csrfToken: string }).csrfToken };
}
