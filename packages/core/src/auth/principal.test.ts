import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnsembleError } from '../errors/ensemble-error.ts';
import { assertAdmin, assertModelAllowed, type Principal } from './principal.ts';

const key = (extra: Partial<Principal> = {}): Principal => ({
  keyId: 'key_x',
  projectId: 'default',
  admin: false,
  role: 'developer',
  tags: [],
  ...extra,
});

const refused = (run: () => void) =>
  assert.throws(run, (error: EnsembleError) => error.code === 'forbidden' && error.httpStatus === 403);

describe('assertModelAllowed', () => {
  it('lets a key without a list call anything of its project', () => {
    assertModelAllowed(key(), 'openai/gpt-4o-mini');
  });

  it('lets a listed model be called by name, version and alias', () => {
    const limited = key({ allowedModels: ['openai/gpt-4o-mini', 'cheap-route'] });
    for (const name of ['openai/gpt-4o-mini', 'openai/gpt-4o-mini@2', 'openai/gpt-4o-mini:production', 'cheap-route']) {
      assertModelAllowed(limited, name);
    }
    for (const name of ['openai/gpt-4o', 'openai/gpt-4o-mini-2', 'openai', 'cheap-route-2', '@openai/gpt-4o-mini']) {
      refused(() => assertModelAllowed(limited, name));
    }
  });

  it('pins a key listing an alias to that alias', () => {
    const pinned = key({ allowedModels: ['m:production'] });
    assertModelAllowed(pinned, 'm:production');
    refused(() => assertModelAllowed(pinned, 'm'));
    refused(() => assertModelAllowed(pinned, 'm@1'));
  });

  it('an empty list allows nothing', () => {
    refused(() => assertModelAllowed(key({ allowedModels: [] }), 'anything'));
  });
});

describe('assertAdmin', () => {
  it('refuses other keys, naming the action', () => {
    assertAdmin(key({ admin: true }), 'create projects');
    assert.throws(() => assertAdmin(key(), 'create projects'), /only an admin key may create projects/);
  });
});
