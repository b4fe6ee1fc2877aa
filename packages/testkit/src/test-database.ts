import pg from 'pg';
import { requiredTestEnv, uniqueName } from './environment.ts';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test PostgreSQL server, so each test file starts clean. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const adminUrl = requiredTestEnv('ENSEMBLE_TEST_DATABASE_URL');
  const name = uniqueName(prefix).toLowerCase();
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
