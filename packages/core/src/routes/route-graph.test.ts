import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRouteGraph } from './route-graph.ts';

const graph = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

describe('checkRouteGraph', () => {
  it('accepts models, versions, aliases and routes without loops', () => {
    const routes = graph({ b: ['m1', 'c'], c: ['m2@2', 'm3:prod'] });
    assert.equal(checkRouteGraph(routes, 'a', ['b', 'm1']), undefined);
  });

  it('refuses a loop through the checked route, blaming the target that starts it', () => {
    const routes = graph({ b: ['c'], c: ['m', 'a'] });
    const problem = checkRouteGraph(routes, 'a', ['m', 'b']);
    assert.equal(problem?.target, 'b');
    assert.match(problem?.message ?? '', /a → b → c → a/);
  });

  it('ignores refs with a version or alias: they always name models', () => {
    assert.equal(checkRouteGraph(graph({ b: ['a@1', 'a:prod'] }), 'a', ['b']), undefined);
  });

  it('refuses chains deeper than the router follows (the root plus 4 nested routes), above and below', () => {
    const chain = graph({ r1: ['r2'], r2: ['r3'], r3: ['r4'], r4: ['m'] });
    assert.equal(checkRouteGraph(chain, 'top', ['m', 'r1']), undefined);

    const longer = graph({ r1: ['r2'], r2: ['r3'], r3: ['r4'], r4: ['r5'], r5: ['m'] });
    const below = checkRouteGraph(longer, 'top', ['m', 'r1']);
    assert.equal(below?.target, 'r1');
    assert.match(below?.message ?? '', /6 deep \(top → r1 → r2 → r3 → r4 → r5\)/);

    // Changing the bottom of a chain: the routes above it count too.
    const above = graph({ top: ['r1'], r1: ['r2'], r2: ['r3'], r3: ['r4'], r4: ['m'], r5: ['m'] });
    assert.equal(checkRouteGraph(above, 'r4', ['m', 'r9']), undefined, 'r9 is no route: a model');
    const bottom = checkRouteGraph(above, 'r4', ['m', 'r5']);
    assert.equal(bottom?.target, 'r5');
    assert.match(bottom?.message ?? '', /top → r1 → r2 → r3 → r4 → r5/);
  });
});
