import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flush } from './drive-clock.test-helper.ts';
import { createManualClock } from './manual-clock.ts';
import { createSeededRandom } from './random-source.ts';
import { pickWeighted } from './weighted-choice.ts';

describe('manual clock', () => {
  it('wakes sleepers in order as time advances and rejects aborted ones', async () => {
    const clock = createManualClock(100);
    const woke: string[] = [];
    const controller = new AbortController();
    void clock.sleep(20).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(10).then(() => woke.push(`a@${clock.now()}`));
    const aborted = clock.sleep(5, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(aborted, /stop/);
    await assert.rejects(clock.sleep(1, controller.signal), /stop/);
    clock.advance(15);
    await flush();
    assert.deepEqual(woke, ['a@115'], 'continuations run after advance() has moved time to its end');
    assert.equal(clock.now(), 115);
    assert.equal(clock.runNext(), true);
    await flush();
    assert.deepEqual(woke, ['a@115', 'b@120']);
    assert.equal(clock.runNext(), false);
    assert.equal(clock.pendingSleeps(), 0);
  });
});

describe('weighted choice and seeded random', () => {
  it('draws by weight, skips zero weights, and is reproducible', () => {
    assert.equal(
      pickWeighted([0, 0], () => 0.5),
      -1,
    );
    assert.equal(
      pickWeighted([1, 0, 1], () => 0.5),
      2,
    );
    assert.equal(
      pickWeighted([1, 0, 1], () => 0.49),
      0,
    );
    assert.equal(
      pickWeighted([3, 0], () => 0.999_999_999_999),
      0,
    );
    const first = createSeededRandom(7);
    const second = createSeededRandom(7);
    const values = Array.from({ length: 1_000 }, () => first());
    assert.deepEqual(
      values,
      Array.from({ length: 1_000 }, () => second()),
    );
    assert.ok(values.every((value) => value >= 0 && value < 1));
  });
});
