import { z } from 'zod';
import { projectIdSchema } from '../projects/project.ts';
import { credentialNameSchema, providerIdSchema } from './credential.ts';
import { aliasNameSchema, modelNameSchema, versionNumberSchema } from './model-name.ts';
import { type ModelStatus, modelStatuses } from './model-status.ts';

/** `chat`, `embedding`, `classifier` are the kinds Ensemble calls; others may be stored for later. */
export const modelKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a lowercase kind such as chat, embedding or classifier');

export const modelStatusSchema = z.enum(modelStatuses);

const positiveInt = z.number().int().positive();

export const modelCapabilitiesSchema = z.strictObject({
  streaming: z.boolean().optional(),
  tools: z.boolean().optional(),
  jsonMode: z.boolean().optional(),
  /** Length of the vectors an embedding model returns. */
  dimensions: positiveInt.optional(),
  contextWindow: positiveInt.optional(),
  maxOutputTokens: positiveInt.optional(),
  /** The labels a classifier can answer with. */
  labels: z.array(z.string().min(1).max(200)).max(10_000).optional(),
});

/** US dollars per one million tokens. */
export const modelPricingSchema = z.strictObject({
  inputPerMillionTokens: z.number().nonnegative(),
  outputPerMillionTokens: z.number().nonnegative(),
});

/** A model file in the artifact store, for models Ensemble runs itself. */
export const modelArtifactSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  format: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, 'must be a lowercase format such as gguf or onnx'),
});

const settings = z.record(z.string(), z.unknown());

/** The part of a model that says how to call it: what each immutable version fixes. */
export const modelSpecSchema = z.strictObject({
  provider: providerIdSchema,
  /** The provider's own id, e.g. `gpt-4o-mini`. */
  providerModelId: z.string().trim().min(1, 'must not be empty').max(500),
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2000)
    .optional(),
  /** The name of a credential in the same project. */
  credential: credentialNameSchema.optional(),
  /** Defaults sent with every call (temperature, max tokens …). */
  parameters: settings.default({}),
  /** Provider-specific settings (region, API version, deployment …). */
  options: settings.default({}),
  capabilities: modelCapabilitiesSchema.default({}),
  pricing: modelPricingSchema.optional(),
  artifact: modelArtifactSchema.optional(),
});

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ModelSpecInput = z.input<typeof modelSpecSchema>;

const tags = z
  .array(z.string().regex(/^[a-z0-9][a-z0-9._:/-]{0,62}$/, 'each tag must be 1-63 lowercase characters'))
  .max(50)
  .transform((list) => [...new Set(list)]);

/** The fields of a model that are not versioned and may change: description, tags, status. */
const metadataShape = {
  description: z.string().max(2000),
  tags,
};

/** `POST /api/models`: a model and its version 1. */
export const registerModelSchema = modelSpecSchema.extend({
  name: modelNameSchema,
  kind: modelKindSchema,
  projectId: projectIdSchema.default('default'),
  description: metadataShape.description.default(''),
  tags: tags.default([]),
  /** Aliases to point at version 1 at once, e.g. `[production]`. */
  aliases: z.array(aliasNameSchema).max(20).default([]),
});

export type RegisterModel = z.infer<typeof registerModelSchema>;
export type RegisterModelInput = z.input<typeof registerModelSchema>;

/**
 * `POST /api/models/{name}/versions`: a new version from a full or partial spec. Fields left out are
 * copied from the base version (`from`, the newest by default), top-level field by field; `null`
 * removes an optional field.
 */
export const newModelVersionSchema = z.strictObject({
  from: versionNumberSchema.optional(),
  provider: modelSpecSchema.shape.provider.optional(),
  providerModelId: modelSpecSchema.shape.providerModelId.optional(),
  baseUrl: modelSpecSchema.shape.baseUrl.unwrap().nullable().optional(),
  credential: credentialNameSchema.nullable().optional(),
  parameters: settings.optional(),
  options: settings.optional(),
  capabilities: modelCapabilitiesSchema.optional(),
  pricing: modelPricingSchema.nullable().optional(),
  artifact: modelArtifactSchema.nullable().optional(),
  aliases: z.array(aliasNameSchema).max(20).default([]),
});

export type NewModelVersion = z.infer<typeof newModelVersionSchema>;

/** `PATCH /api/models/{name}`: the mutable fields. The spec changes only by creating a version. */
export const updateModelSchema = z
  .strictObject({
    description: metadataShape.description.optional(),
    tags: tags.optional(),
    status: modelStatusSchema.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of description, tags, status');

export type UpdateModel = z.infer<typeof updateModelSchema>;

/** One immutable version of a model: `name@version`. */
export interface ModelVersion extends ModelSpec {
  version: number;
  createdAt: Date;
  createdBy: string;
}

/** A registry entry: the model's own fields, and the spec of the version its bare name resolves to. */
export interface ModelDescriptor extends ModelVersion {
  projectId: string;
  name: string;
  kind: string;
  description: string;
  tags: string[];
  status: ModelStatus;
  /** The newest version number (the descriptor shows `version`, which an alias may hold back). */
  latestVersion: number;
  /** Alias → version. */
  aliases: Record<string, number>;
  registeredAt: Date;
  updatedAt: Date;
}

/** The spec fields of a version, without the bookkeeping; used to compare and to copy. */
export function specOf(version: ModelSpec): ModelSpec {
  return {
    provider: version.provider,
    providerModelId: version.providerModelId,
    ...(version.baseUrl === undefined ? {} : { baseUrl: version.baseUrl }),
    ...(version.credential === undefined ? {} : { credential: version.credential }),
    parameters: version.parameters,
    options: version.options,
    capabilities: version.capabilities,
    ...(version.pricing === undefined ? {} : { pricing: version.pricing }),
    ...(version.artifact === undefined ? {} : { artifact: version.artifact }),
  };
}

/** Applies a partial version body to its base: given fields replace, `null` removes. */
export function mergeSpec(base: ModelSpec, change: NewModelVersion): ModelSpec {
  const merged: ModelSpec = { ...specOf(base) };
  if (change.provider !== undefined) merged.provider = change.provider;
  if (change.providerModelId !== undefined) merged.providerModelId = change.providerModelId;
  if (change.parameters !== undefined) merged.parameters = change.parameters;
  if (change.options !== undefined) merged.options = change.options;
  if (change.capabilities !== undefined) merged.capabilities = change.capabilities;
  assignOptional(merged, 'baseUrl', change.baseUrl);
  assignOptional(merged, 'credential', change.credential);
  assignOptional(merged, 'pricing', change.pricing);
  assignOptional(merged, 'artifact', change.artifact);
  return merged;
}

function assignOptional<K extends 'baseUrl' | 'credential' | 'pricing' | 'artifact'>(
  target: ModelSpec,
  key: K,
  value: ModelSpec[K] | null | undefined,
): void {
  if (value === null) delete target[key];
  else if (value !== undefined) target[key] = value;
}
