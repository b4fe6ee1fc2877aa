import assert from 'node:assert/strict';
import { it } from 'node:test';
import { modelNameSchema, reservedNameSegments } from './model-name.ts';

// Each sub-resource word of /api/models/{name}/… must be unusable as a name segment, or a route would
// read `team/undeploy` as "undeploy the model team".
it('refuses every sub-resource word as a name segment', () => {
  for (const word of ['versions', 'aliases', 'history', 'invoke', 'deploy', 'undeploy', 'health']) {
    assert.ok(reservedNameSegments.includes(word), `${word} is reserved`);
    assert.equal(modelNameSchema.safeParse(`team/${word}`).success, false, `team/${word} is refused`);
  }
  assert.equal(modelNameSchema.safeParse('team/undeployed-model').success, true);
});
