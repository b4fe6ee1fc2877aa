import { z } from 'zod';
import { type ProjectRole, projectRoleSchema } from '../security/project-role.ts';

/** Every key Ensemble generates starts with this, so people and secret scanners recognise one. */
export const apiKeySecretPrefix = 'ens_';

/**
 * An API key as Ensemble shows it: everything except the secret, of which only the first
 * characters (`prefix`, e.g. `ens_ab12`) are kept, enough to tell keys apart.
 */
export interface ApiKey {
  id: string;
  name: string;
  projectId: string;
  /** The secret's first characters (8 for generated `ens_` keys, 4 otherwise). */
  prefix: string;
  /** Platform admin keys manage every project (and are `owner` in each). */
  admin: boolean;
  /** What the key may do within its project. */
  role: ProjectRole;
  /** Source address ranges (CIDR, e.g. `10.0.0.0/8`) the key may be used from; `null` means anywhere. */
  allowedIps: readonly string[] | null;
  /** Model and route names the key may call; `null` means every one of its project. */
  allowedModels: readonly string[] | null;
  /** Free-form labels, usable by conditional routes as `key.tags`. */
  tags: readonly string[];
  /** The key Ensemble made at first start (or from ENSEMBLE_ADMIN_KEY). */
  bootstrap: boolean;
  expiresAt: Date | null;
  createdAt: Date;
  /** Updated in batches off the request path: up to 30 s behind. */
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A new key and its secret: the only moment the secret exists outside the caller's hands. */
export interface CreatedApiKey {
  key: ApiKey;
  secret: string;
}

const modelOrRouteName = z.string().min(1, 'must not be empty').max(300).regex(/^\S+$/, 'must not contain spaces');

const tag = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,99}$/, "must be 1-100 letters, digits or '.', '_', ':', '/', '=', '-'");

/** An address range: CIDR (`10.0.0.0/8`, `2001:db8::/32`) or one address (kept as `/32` or `/128`). */
export const ipRangeSchema = z
  .string()
  .max(50)
  .transform((value, context) => {
    if (z.cidrv4().safeParse(value).success || z.cidrv6().safeParse(value).success) return value.toLowerCase();
    if (z.ipv4().safeParse(value).success) return `${value}/32`;
    if (z.ipv6().safeParse(value).success) return `${value.toLowerCase()}/128`;
    context.addIssue({ code: 'custom', message: 'must be an IP address or a CIDR range such as 10.0.0.0/8' });
    return z.NEVER;
  });

/** What a caller chooses about a new key; the project comes from who creates it. */
export const newApiKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  admin: z.boolean().default(false),
  /** `developer` unless said; a platform admin key is always `owner`. */
  role: projectRoleSchema.optional(),
  allowedIps: z
    .array(ipRangeSchema)
    .min(1, 'list at least one range, or leave the field out to allow any address')
    .max(100)
    .optional(),
  allowedModels: z
    .array(modelOrRouteName)
    .min(1, 'list at least one model or route, or leave the field out to allow all')
    .max(1_000)
    .refine((names) => new Set(names).size === names.length, 'must not list a name twice')
    .optional(),
  tags: z
    .array(tag)
    .max(50)
    .refine((tags) => new Set(tags).size === tags.length, 'must not list a tag twice')
    .default([]),
  /** An absolute instant with its offset, e.g. `2027-01-01T00:00:00Z`; must be in the future. */
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value))
    .optional(),
});

export type NewApiKey = z.infer<typeof newApiKeySchema>;
export type NewApiKeyInput = z.input<typeof newApiKeySchema>;

/** The characters an API key may hold: RFC 7235's token68, so it travels in `Authorization: Bearer`. */
const token68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** Bounds on a presented secret: anything outside is refused before any lookup. */
export const apiKeySecretLength = { min: 32, max: 256 } as const;

/** Whether a presented credential could be a key at all; cheap, so garbage never reaches a lookup. */
export function isPlausibleApiKeySecret(secret: string): boolean {
  return secret.length >= apiKeySecretLength.min && secret.length <= apiKeySecretLength.max && token68.test(secret);
}

/**
 * Why a chosen admin key (ENSEMBLE_ADMIN_KEY) is unfit, or `undefined` when it is fine. Only shape and
 * variety are checked: a person typing `aaaa…` is the mistake worth catching.
 */
export function adminKeyProblem(secret: string): string | undefined {
  const { min, max } = apiKeySecretLength;
  if (secret.length < min || secret.length > max) return `must be ${min}-${max} characters long`;
  if (!token68.test(secret)) return "may hold only letters, digits and '.', '_', '~', '+', '/', '-' (then '=' padding)";
  if (new Set(secret).size < 10) return 'is too regular (fewer than 10 different characters): generate a random one';
  return undefined;
}

/** What the API shows of a secret: its stored prefix and an ellipsis, e.g. `ens_ab12…`. */
export function displayPrefix(prefix: string): string {
  return `${prefix}…`;
}

/** The part of a secret kept to recognise it: 8 characters of a generated key, 4 of a chosen one. */
export function secretPrefixOf(secret: string): string {
  return secret.slice(0, secret.startsWith(apiKeySecretPrefix) ? 8 : 4);
}

/** A new key's role: what was asked, `developer` by default; a platform admin key is always `owner`. */
export function roleOfNewKey(key: Pick<NewApiKey, 'admin' | 'role'>): ProjectRole {
  return key.admin ? 'owner' : (key.role ?? 'developer');
}
