import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { apiRequest, apiTarget, withApiClientOptions } from '../jobs/jobs-api-client.ts';
import { listAllPages, projectHeader, table } from './project-listing.ts';

interface ClientOptions {
  url?: string;
  apiKey?: string;
  /** A platform admin key acts on this project (`x-ensemble-project`). */
  project?: string;
}

interface MemberJson {
  id: string;
  email: string;
  name: string | null;
  platformAdmin: boolean;
  hasPassword: boolean;
  role: string;
  projectId: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
}

/**
 * `ensemble users create|list|set-role|remove|disable`: console users from a terminal, through a
 * running Ensemble's `/api/users` (the server checks roles and audit-logs every change). A generated
 * password goes to stdout alone, for a script to capture; everything else to stderr.
 */
export function addUsersCommands(program: Command): void {
  const users = program.command('users').description('Create, list and manage console users on a running Ensemble');
  const client = (command: Command) =>
    withApiClientOptions(command).option('--project <id>', 'with a platform admin key: act on this project');

  client(
    users
      .command('create <email>')
      .description('Create a console user with a role in the project; prints a generated password unless one is given')
      .option('--role <role>', 'viewer (default), developer, admin or owner')
      .option('--name <name>', 'a display name')
      .option('--platform-admin', 'owner in every project (platform admin keys only)')
      .option('--password-stdin', 'read the password from the first line of stdin')
      .option('--no-password', 'no password: the user signs in through OpenID Connect only'),
  ).action(
    async (
      email: string,
      options: ClientOptions & {
        role?: string;
        name?: string;
        platformAdmin?: boolean;
        passwordStdin?: boolean;
        password: boolean;
      },
    ) => {
      const target = await apiTarget(options);
      const given = options.passwordStdin ? await firstLineOfStdin() : undefined;
      const generated = options.password && given === undefined ? randomBytes(18).toString('base64url') : undefined;
      const password = given ?? generated;
      const response = await apiRequest(
        target,
        'POST',
        '/api/users',
        {
          email,
          ...(password === undefined ? {} : { password }),
          ...(options.role === undefined ? {} : { role: options.role }),
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.platformAdmin ? { platformAdmin: true } : {}),
        },
        projectHeader(options),
      );
      const user = (await response.json()) as MemberJson;
      process.stderr.write(
        `created ${user.id} ${user.email} in project ${user.projectId} (${user.platformAdmin ? 'platform admin' : user.role})` +
          (generated === undefined ? '\n' : '; its generated password follows and is not shown again\n'),
      );
      if (generated !== undefined) process.stdout.write(`${generated}\n`);
    },
  );

  client(users.command('list').description("List the project's console users and their roles")).action(
    async (options: ClientOptions) => {
      const target = await apiTarget(options);
      const all = await listAllPages<MemberJson>(target, '/api/users', projectHeader(options));
      const rows = all.map((user) => [
        user.id,
        user.email,
        user.platformAdmin ? 'platform-admin' : user.role,
        user.hasPassword ? 'password' : 'sso',
        user.lastLoginAt ?? '-',
        user.disabledAt === null ? 'active' : `disabled ${user.disabledAt}`,
      ]);
      process.stdout.write(table(['ID', 'EMAIL', 'ROLE', 'SIGN-IN', 'LAST SIGN-IN', 'STATE'], rows));
    },
  );

  client(users.command('set-role <id> <role>').description("Set a user's role in the project")).action(
    async (id: string, role: string, options: ClientOptions) => {
      const target = await apiTarget(options);
      const response = await apiRequest(
        target,
        'PUT',
        `/api/users/${encodeURIComponent(id)}/role`,
        { role },
        projectHeader(options),
      );
      const user = (await response.json()) as MemberJson;
      process.stderr.write(`${user.id} ${user.email} is now ${user.role} in project ${user.projectId}\n`);
    },
  );

  client(users.command('remove <id>').description('Remove a user from the project (the account stays)')).action(
    async (id: string, options: ClientOptions) => {
      const target = await apiTarget(options);
      const response = await apiRequest(
        target,
        'DELETE',
        `/api/users/${encodeURIComponent(id)}`,
        undefined,
        projectHeader(options),
      );
      const user = (await response.json()) as MemberJson;
      process.stderr.write(`removed ${user.id} ${user.email} from project ${user.projectId}\n`);
    },
  );

  client(users.command('disable <id>').description('Disable an account and end its sessions')).action(
    async (id: string, options: ClientOptions) => {
      const target = await apiTarget(options);
      const response = await apiRequest(
        target,
        'POST',
        `/api/users/${encodeURIComponent(id)}/disable`,
        undefined,
        projectHeader(options),
      );
      const user = (await response.json()) as MemberJson;
      process.stderr.write(`disabled ${user.id} ${user.email} at ${user.disabledAt}\n`);
    },
  );
}

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0]?.replace(/\r$/, '') ?? '';
}
