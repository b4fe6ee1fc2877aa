import type { Command } from 'commander';
import { apiRequest, apiTarget, collect, withApiClientOptions } from '../jobs/jobs-api-client.ts';
import { listAllPages, projectHeader, table } from './project-listing.ts';

interface ClientOptions {
  url?: string;
  apiKey?: string;
  /** An admin key acts on this project (`x-ensemble-project`). */
  project?: string;
}

interface CreateOptions extends ClientOptions {
  role?: string;
  admin?: boolean;
  model: string[];
  allowIp: string[];
  tag: string[];
  expiresAt?: string;
}

interface KeyJson {
  id: string;
  name: string;
  projectId: string;
  prefix: string;
  admin: boolean;
  role: string;
  allowedModels: string[] | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  secret?: string;
}

/**
 * `ensemble keys create|list|revoke`: API keys from a terminal, through a running Ensemble's
 * `/api/keys` (so the server checks roles and limits exactly as for any other client). The secret
 * of a new key goes to stdout alone, for a script to capture; everything else to stderr.
 */
export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke API keys on a running Ensemble');
  const client = (command: Command) =>
    withApiClientOptions(command).option(
      '--project <id>',
      "with an admin key: act on this project instead of the key's own",
    );

  client(
    keys
      .command('create <name>')
      .description('Create a key and print its secret (shown this once, never again)')
      .option('--role <role>', 'viewer, developer (default), admin or owner')
      .option('--admin', 'a platform admin key (every project, as owner)')
      .option('--model <name>', 'allow only this model or route (repeatable)', collect, [])
      .option('--allow-ip <range>', 'accept the key only from this address or CIDR range (repeatable)', collect, [])
      .option('--tag <tag>', 'a label kept with the key (repeatable)', collect, [])
      .option('--expires-at <instant>', 'an ISO 8601 instant with its offset, e.g. 2027-01-01T00:00:00Z'),
  ).action(async (name: string, options: CreateOptions) => {
    const target = await apiTarget(options);
    const response = await apiRequest(
      target,
      'POST',
      '/api/keys',
      {
        name,
        ...(options.admin ? { admin: true } : {}),
        ...(options.role === undefined ? {} : { role: options.role }),
        ...(options.model.length === 0 ? {} : { allowedModels: options.model }),
        ...(options.allowIp.length === 0 ? {} : { allowedIps: options.allowIp }),
        ...(options.tag.length === 0 ? {} : { tags: options.tag }),
        ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
      },
      projectHeader(options),
    );
    const key = (await response.json()) as KeyJson;
    process.stderr.write(
      `created ${key.id} '${key.name}' in project ${key.projectId} (${key.admin ? 'platform admin' : key.role}); ` +
        'its secret follows and is not shown again\n',
    );
    process.stdout.write(`${key.secret}\n`);
  });

  client(
    keys
      .command('list')
      .description("List the project's keys (never their secrets)")
      .option('--revoked', 'include revoked keys'),
  ).action(async (options: ClientOptions & { revoked?: boolean }) => {
    const target = await apiTarget(options);
    const all = await listAllPages<KeyJson>(target, '/api/keys', projectHeader(options));
    const shown = options.revoked ? all : all.filter((key) => key.revokedAt === null);
    const rows = shown.map((key) => [
      key.id,
      key.name,
      key.admin ? 'platform-admin' : key.role,
      key.prefix,
      key.allowedModels === null ? '*' : key.allowedModels.join(','),
      key.expiresAt ?? '-',
      key.lastUsedAt ?? '-',
      key.revokedAt === null ? 'active' : `revoked ${key.revokedAt}`,
    ]);
    process.stdout.write(table(['ID', 'NAME', 'ROLE', 'PREFIX', 'MODELS', 'EXPIRES', 'LAST USED', 'STATE'], rows));
  });

  client(
    keys.command('revoke <id>').description('Revoke a key at once (other instances within their key cache TTL)'),
  ).action(async (id: string, options: ClientOptions) => {
    const target = await apiTarget(options);
    const response = await apiRequest(
      target,
      'DELETE',
      `/api/keys/${encodeURIComponent(id)}`,
      undefined,
      projectHeader(options),
    );
    const key = (await response.json()) as KeyJson;
    process.stderr.write(`revoked ${key.id} '${key.name}' at ${key.revokedAt}\n`);
  });
}
