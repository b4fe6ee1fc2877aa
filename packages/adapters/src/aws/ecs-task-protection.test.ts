import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import { EcsTaskProtection } from './ecs-task-protection.ts';

// The ECS agent cannot run here: this local server answers in the agent's wire format, as its
// task scale-in protection endpoint documents it (PUT .../task-protection/v1/state).
describe('EcsTaskProtection against a stand-in ECS agent', () => {
  let server: Server;
  let agentUri: string;
  const calls: Array<{
    method: string;
    path: string;
    body: { ProtectionEnabled: boolean; ExpiresInMinutes?: number };
  }> = [];
  let refuse = false;

  before(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        const body = JSON.parse(text) as { ProtectionEnabled: boolean; ExpiresInMinutes?: number };
        calls.push({ method: request.method ?? '', path: request.url ?? '', body });
        response.setHeader('content-type', 'application/json');
        if (refuse) {
          response.statusCode = 400;
          response.end(
            JSON.stringify({
              failure: { Arn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc', Detail: null, Reason: 'TASK_NOT_VALID' },
            }),
          );
          return;
        }
        const expiration = body.ProtectionEnabled
          ? new Date(Date.now() + (body.ExpiresInMinutes ?? 120) * 60_000).toISOString()
          : null;
        response.end(
          JSON.stringify({
            protection: {
              ExpirationDate: expiration,
              ProtectionEnabled: body.ProtectionEnabled,
              TaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc',
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    agentUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/abc-123`;
  });
  after(() => server.close());
  beforeEach(() => {
    calls.length = 0;
    refuse = false;
  });

  it('turns protection on for the first hold and off a moment after the last release', async () => {
    const protection = new EcsTaskProtection({ agentUri, releaseDelayMs: 50, expiresInMinutes: 30 });
    const releaseA = protection.hold('stream');
    const releaseB = protection.hold('job task');
    await waitFor('protection on', () => protection.enabled);
    assert.deepEqual(calls, [
      {
        method: 'PUT',
        path: '/api/abc-123/task-protection/v1/state',
        body: { ProtectionEnabled: true, ExpiresInMinutes: 30 },
      },
    ]);
    releaseA();
    releaseA();
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(calls.length, 1, 'still held by B');
    releaseB();
    await waitFor('protection off', () => !protection.enabled);
    assert.deepEqual(calls.at(-1)?.body, { ProtectionEnabled: false });
    assert.equal(calls.length, 2);
  });

  it('does not flap when new work arrives within the release delay', async () => {
    const protection = new EcsTaskProtection({ agentUri, releaseDelayMs: 200 });
    protection.hold('a')();
    await waitFor('protection on', () => protection.enabled);
    const release = protection.hold('b');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(calls.length, 1);
    assert.equal(protection.enabled, true);
    release();
    await protection.close();
    assert.deepEqual(calls.at(-1)?.body, { ProtectionEnabled: false });
  });

  it('never fails the work when the agent refuses or is unreachable', async () => {
    refuse = true;
    const refused = new EcsTaskProtection({ agentUri, releaseDelayMs: 10 });
    const release = refused.hold('stream');
    await waitFor('three attempts', () => calls.length >= 3, { timeoutMs: 10_000 });
    assert.equal(refused.enabled, false);
    release();
    await refused.close();

    const unreachable = new EcsTaskProtection({ agentUri: 'http://127.0.0.1:1', requestTimeoutMs: 500 });
    const started = Date.now();
    const releaseUnreachable = unreachable.hold('stream');
    assert.ok(Date.now() - started < 50, 'hold() returns at once');
    releaseUnreachable();
    await unreachable.close();
  });

  it('turns protection off on close even while work is held, and ignores holds after', async () => {
    const protection = new EcsTaskProtection({ agentUri });
    protection.hold('stream');
    await waitFor('protection on', () => protection.enabled);
    await protection.close();
    assert.equal(protection.enabled, false);
    protection.hold('late')();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      calls.map((c) => c.body.ProtectionEnabled),
      [true, false],
    );
  });
});
