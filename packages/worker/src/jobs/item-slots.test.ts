import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ItemSlots } from './item-slots.ts';

it('bounds concurrent calls and serves waiting high-priority calls first', async () => {
  const slots = new ItemSlots(2);
  const never = new AbortController().signal;
  assert.equal(await slots.acquire('normal', never), true);
  assert.equal(await slots.acquire('normal', never), true);
  const order: string[] = [];
  const waiting = [
    slots.acquire('normal', never).then(() => order.push('normal-1')),
    slots.acquire('normal', never).then(() => order.push('normal-2')),
    slots.acquire('high', never).then(() => order.push('high')),
  ];
  const aborted = new AbortController();
  const gaveUp = slots.acquire('high', aborted.signal);
  aborted.abort();
  assert.equal(await gaveUp, false, 'an aborted wait holds no slot');
  assert.equal(slots.inUse, 2);
  slots.release();
  slots.release();
  slots.release();
  await Promise.all(waiting);
  assert.deepEqual(order, ['high', 'normal-1', 'normal-2']);
  assert.equal(slots.inUse, 2);
  slots.release();
  slots.release();
  assert.equal(slots.inUse, 0);
});
