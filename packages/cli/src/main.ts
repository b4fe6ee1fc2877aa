import { EnsembleError } from '@ensemble/core';
import { Command, Option } from 'commander';
import { addKeysCommands } from './auth/keys-commands.ts';
import { addUsersCommands } from './auth/users-commands.ts';
import { addIngestCommand } from './collections/ingest-command.ts';
import { migrateCommand } from './commands/migrate.ts';
import { startCommand } from './commands/start.ts';
import { workerCommand } from './commands/worker.ts';
import { addJobsCommands } from './jobs/jobs-commands.ts';
import { version } from './version.ts';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('ensemble')
    .description('Ensemble: register models, compose pipelines, serve them through one OpenAI-compatible API.')
    .version(version)
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option('-c, --config <file>', 'ensemble.yaml to read (default: ./ensemble.yaml if present)').env(
        'ENSEMBLE_CONFIG',
      ),
    );

  program
    .command('start')
    .description('Run the API server and console; also runs the workers unless --no-worker is given')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 8080)')
    .option('-H, --host <host>', 'interface to listen on (env HOST, default 127.0.0.1)')
    .option('--no-worker', 'do not run the job and event consumers in this process')
    .option('--examples', 'register the example pipelines (examples/pipelines) at start')
    .action(async (options: { port?: string; host?: string; worker: boolean; examples?: boolean }) => {
      await startCommand({ ...program.opts<GlobalOptions>(), ...options });
    });

  program
    .command('worker')
    .description('Run only the consumers (jobs, outbox relay, usage ledger); scale out by running more')
    .action(async () => {
      await workerCommand(program.opts<GlobalOptions>());
    });

  program
    .command('migrate')
    .description('Apply the database migrations and exit')
    .action(async () => {
      await migrateCommand(program.opts<GlobalOptions>());
    });

  program
    .command('models')
    .description('Manage the models Ensemble runs itself')
    .command('pull')
    .description('Fetch the built-in local model files into <ENSEMBLE_HOME>/artifacts (sha256-checked)')
    .action(async () => {
      // Loaded on use: the model code is not needed by the other commands.
      const { modelsPullCommand } = await import('./commands/models-pull.ts');
      await modelsPullCommand(program.opts<GlobalOptions>());
    });

  addJobsCommands(program);
  addIngestCommand(program);
  addKeysCommands(program);
  addUsersCommands(program);

  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = reportFatal(error);
  }
}

export interface GlobalOptions {
  config?: string;
}

/** Prints a start-up failure for a person (no stack trace for known errors) and returns the exit code. */
function reportFatal(error: unknown): number {
  if (error instanceof EnsembleError) {
    process.stderr.write(`ensemble: ${error.message}\n`);
    return error.code === 'config_invalid' ? 78 : 1; // 78 = EX_CONFIG
  }
  process.stderr.write(
    `ensemble: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}
