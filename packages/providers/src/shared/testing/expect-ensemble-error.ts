import assert from 'node:assert/strict';
import { EnsembleError, type ErrorCode } from '@ensemble/core';

/** Awaits a call that must fail with a catalogue code; returns the error for further checks. */
export async function expectEnsembleError(call: () => Promise<unknown>, code: ErrorCode): Promise<EnsembleError> {
  try {
    await call();
  } catch (error) {
    assert.ok(EnsembleError.isInstance(error), `expected an EnsembleError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

/** Drains a stream (LangChain `.stream()`), so stream failures surface as rejections. */
export async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}
