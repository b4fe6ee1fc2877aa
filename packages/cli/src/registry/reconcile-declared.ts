import {
  type ChangeContext,
  type CredentialRepository,
  type DeclaredCredential,
  type DeclaredModel,
  EnsembleError,
  type Logger,
  type ModelDescriptor,
  type ModelRepository,
  type ModelSpec,
  specOf,
} from '@ensemble/core';

export interface ReconcileOptions {
  models: ModelRepository;
  credentials: CredentialRepository;
  declaredModels: readonly DeclaredModel[];
  declaredCredentials: readonly DeclaredCredential[];
  /** Where `apiKeyEnv` variables are read. */
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** For messages: the file the entries came from. */
  file?: string;
}

export type ModelOutcome = 'created' | 'versioned' | 'updated' | 'retired' | 'unchanged';

export interface ReconcileReport {
  models: Array<{ name: string; projectId: string; outcome: ModelOutcome; version: number }>;
  credentials: Array<{ name: string; projectId: string; outcome: 'created' | 'updated' | 'unchanged' | 'skipped' }>;
}

const context: ChangeContext = { actor: 'ensemble.yaml' };

/**
 * Brings the registry in line with `ensemble.yaml`, like LiteLLM's config.yaml: declared credentials
 * are stored (read from their environment variables), declared models are created when missing and
 * given a new version when their spec changed; unchanged ones are left alone. Nothing the file does
 * not mention is touched, and only `retire: true` retires. Running it twice changes nothing.
 */
export async function reconcileDeclared(options: ReconcileOptions): Promise<ReconcileReport> {
  const file = options.file ?? 'ensemble.yaml';
  const report: ReconcileReport = { models: [], credentials: [] };

  for (const [index, entry] of options.declaredCredentials.entries()) {
    const secret = options.env[entry.env];
    const where = { name: entry.name, projectId: entry.projectId };
    if (secret === undefined || secret === '') {
      options.logger.warn(
        { credential: entry.name, variable: entry.env },
        `${file}: credentials[${index}]: ${entry.env} is not set; the credential was not stored`,
      );
      report.credentials.push({ ...where, outcome: 'skipped' });
      continue;
    }
    const { outcome } = await named(file, `credentials[${index}]`, () =>
      options.credentials.put({ name: entry.name, provider: entry.provider, projectId: entry.projectId, secret }),
    );
    report.credentials.push({ ...where, outcome });
  }

  for (const [index, entry] of options.declaredModels.entries()) {
    const result = await named(file, `models[${index}]`, () =>
      reconcileModel(options.models, entry, `${file}: models[${index}]`, options.logger),
    );
    if (result !== undefined) report.models.push({ name: entry.name, projectId: entry.projectId, ...result });
  }

  const changed = [...report.models, ...report.credentials].filter((item) => item.outcome !== 'unchanged');
  options.logger.info(
    { changes: changed.map((item) => `${item.projectId}/${item.name}: ${item.outcome}`) },
    `${file}: ${options.declaredModels.length} model(s) and ${options.declaredCredentials.length} credential(s) reconciled`,
  );
  return report;
}

async function reconcileModel(
  models: ModelRepository,
  entry: DeclaredModel,
  where: string,
  logger: Logger,
): Promise<{ outcome: ModelOutcome; version: number } | undefined> {
  const current = await find(models, entry);
  if (current === undefined) {
    if (entry.retire) return undefined;
    try {
      const { retire: _retire, ...model } = entry;
      const created = await models.register(model, context);
      return { outcome: 'created', version: created.version };
    } catch (error) {
      // Another instance registered it meanwhile: reconcile against what it wrote.
      if (!(error instanceof EnsembleError && error.code === 'conflict')) throw error;
      return reconcileModel(models, entry, where, logger);
    }
  }

  if (current.kind !== entry.kind) {
    throw new EnsembleError(
      'config_invalid',
      `${where}.kind: '${entry.name}' is registered as ${current.kind}; a model's kind cannot change (register another name)`,
      { field: `${where}.kind` },
    );
  }
  if (entry.retire) {
    if (current.status === 'retired') return { outcome: 'unchanged', version: current.latestVersion };
    await models.setStatus(entry.projectId, entry.name, 'retired', { ...context, reason: 'retire: true in the file' });
    return { outcome: 'retired', version: current.latestVersion };
  }

  let outcome: ModelOutcome = 'unchanged';
  let version = current.latestVersion;
  const newest = await models.getVersion(entry.projectId, entry.name, current.latestVersion);
  if (canonical(specOf(newest)) !== canonical(specOf(entry))) {
    if (current.status === 'retired') {
      // A retired model stays retired until someone decides otherwise; start-up goes on.
      logger.warn(
        { model: entry.name },
        `${where}: '${entry.name}' is retired, so its changed spec was not applied; set its status (PATCH /api/models/${entry.name}) or purge it to declare it again`,
      );
      return { outcome: 'unchanged', version };
    }
    const created = await models.createVersion(
      entry.projectId,
      entry.name,
      { ...fullSpec(entry), aliases: entry.aliases },
      context,
    );
    outcome = 'versioned';
    version = created.version;
  } else {
    // Aliases the file names but the registry lacks are created; moved ones are the users' to keep.
    for (const alias of entry.aliases.filter((name) => current.aliases[name] === undefined)) {
      await models.moveAlias(entry.projectId, entry.name, alias, version, { ...context, expectedVersion: null });
      outcome = 'updated';
    }
  }
  const tagsChanged = canonical([...entry.tags].sort()) !== canonical([...current.tags].sort());
  if (entry.description !== current.description || tagsChanged) {
    await models.update(entry.projectId, entry.name, { description: entry.description, tags: entry.tags }, context);
    if (outcome === 'unchanged') outcome = 'updated';
  }
  return { outcome, version };
}

async function find(models: ModelRepository, entry: DeclaredModel): Promise<ModelDescriptor | undefined> {
  try {
    return await models.resolve(entry.projectId, { name: entry.name, selector: { kind: 'default' } });
  } catch (error) {
    if (error instanceof EnsembleError && error.code === 'not_found') return undefined;
    throw error;
  }
}

/** A version body that sets every field (null clears what the file leaves out). */
function fullSpec(spec: ModelSpec) {
  return {
    provider: spec.provider,
    providerModelId: spec.providerModelId,
    baseUrl: spec.baseUrl ?? null,
    credential: spec.credential ?? null,
    parameters: spec.parameters,
    options: spec.options,
    capabilities: spec.capabilities,
    pricing: spec.pricing ?? null,
    artifact: spec.artifact ?? null,
  };
}

/** JSON with sorted keys, so equal specs compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** Runs one entry's reconciliation; a domain error becomes a start-up error naming the entry. */
async function named<T>(file: string, entry: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof EnsembleError) || error.code === 'database_unavailable' || error.code === 'config_invalid') {
      throw error;
    }
    throw new EnsembleError('config_invalid', `${file}: ${entry}: ${error.message}`, {
      field: `${file}: ${entry}`,
      cause: error,
    });
  }
}
