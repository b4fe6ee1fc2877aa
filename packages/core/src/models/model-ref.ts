import { validationError } from '../errors/ensemble-error.ts';
import { aliasNameSchema, modelNameSchema } from './model-name.ts';

/** Which version of a model a ref selects. */
export type VersionSelector =
  | { kind: 'default' }
  | { kind: 'version'; version: number }
  | { kind: 'alias'; alias: string };

/** `name` (the `latest` alias if set, else the newest version), `name@3`, or `name:production`. */
export interface ModelRef {
  name: string;
  selector: VersionSelector;
}

/** Parses a ref; a bad one is a `validation_failed` error naming `field`. */
export function parseModelRef(ref: string, field = 'model'): ModelRef {
  const at = ref.lastIndexOf('@');
  const colon = ref.lastIndexOf(':');
  if (at !== -1 && colon !== -1) throw validationError(field, 'use either name@version or name:alias, not both');
  const separator = Math.max(at, colon);
  const name = separator === -1 ? ref : ref.slice(0, separator);
  const parsedName = modelNameSchema.safeParse(name);
  if (!parsedName.success) throw validationError(field, parsedName.error.issues[0]?.message ?? 'is not a model name');
  if (separator === -1) return { name, selector: { kind: 'default' } };

  const rest = ref.slice(separator + 1);
  if (at !== -1) {
    if (!/^[1-9]\d{0,9}$/.test(rest) || Number(rest) > 2_147_483_647) {
      throw validationError(field, `'${rest.slice(0, 20)}' after '@' must be a version number from 1`);
    }
    return { name, selector: { kind: 'version', version: Number(rest) } };
  }
  const alias = aliasNameSchema.safeParse(rest);
  if (!alias.success) throw validationError(field, `alias after ':' ${alias.error.issues[0]?.message ?? 'is invalid'}`);
  return { name, selector: { kind: 'alias', alias: rest } };
}

export function formatModelRef(ref: ModelRef): string {
  const { name, selector } = ref;
  if (selector.kind === 'version') return `${name}@${selector.version}`;
  if (selector.kind === 'alias') return `${name}:${selector.alias}`;
  return name;
}
