import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import { type JobsHarness, startJobsHarness } from '../testing/jobs-harness.ts';

interface StreamEvent {
  id: number;
  event: string;
  data: { seq: number; status: string; counts: { succeeded: number; failed: number; total: number } };
}

/** Reads a job's SSE stream to its end (the job ending), or until `stopAfter` events. */
async function readEvents(url: string, headers: Record<string, string>, stopAfter?: number): Promise<StreamEvent[]> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: StreamEvent[] = [];
  let buffered = '';
  const decoder = new TextDecoder();
  try {
    for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(bytes, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        if (field('data') === undefined) continue;
        events.push({
          id: Number(field('id')),
          event: field('event') as string,
          data: JSON.parse(field('data') as string),
        });
        if (stopAfter !== undefined && events.length >= stopAfter) abort.abort();
      }
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
  return events;
}

const chat = (text: string) => ({ messages: [{ role: 'user', content: text }] });

describe('job events (SSE) and completion webhooks', { timeout: 180_000 }, () => {
  let harness: JobsHarness;
  let base: string;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Array<{ headers: IncomingMessage['headers']; body: string; status: number }> = [];
  let answer: (attempt: number) => number | 'hang' = () => 200;

  before(async () => {
    harness = await startJobsHarness({
      bus: 'embedded',
      itemConcurrency: 4,
      taskBatchSize: 5,
      webhooks: { timeoutMs: 300, maxAttempts: 3, initialDelayMs: 50 },
    });
    await harness.startWorker();
    base = await harness.listen();
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const status = answer(deliveries.length + 1);
        deliveries.push({ headers: req.headers, body, status: status === 'hang' ? 0 : status });
        if (status === 'hang') return;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    await harness.close();
  });

  it('streams a job’s events live, numbered, ending with the job; resumes after Last-Event-ID', async () => {
    const job = await harness.submit({
      type: 'batch-inference',
      model: 'fake-chat',
      inputs: Array.from({ length: 30 }, (_, i) => chat(`SLOW:30 stream ${i}`)),
    });
    const url = `${base}/api/jobs/${job.id}/events`;
    const live = await readEvents(url, harness.admin);
    assert.deepEqual(
      live.map((event) => event.id),
      Array.from({ length: live.length }, (_, i) => i + 1),
      'ids 1, 2, 3 … with none missing',
    );
    assert.equal(live[0]?.event, 'job.queued');
    assert.equal(live[1]?.event, 'job.started');
    assert.equal(live.at(-1)?.event, 'job.completed');
    assert.ok(live.length >= 5, 'progress came as it happened');
    const progress = live
      .filter((event) => event.event === 'job.progressed')
      .map((event) => event.data.counts.succeeded);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'counts only grow',
    );
    assert.equal(live.at(-1)?.data.counts.succeeded, 30);
    assert.ok(
      live.some((event) => event.data.status === 'running'),
      'events arrived while the job ran',
    );

    const middle = Math.floor(live.length / 2);
    const resumed = await readEvents(url, { ...harness.admin, 'last-event-id': String(middle) });
    assert.deepEqual(resumed, live.slice(middle), 'exactly the events after the one given, then the end');
    const byQuery = await readEvents(`${url}?after=${live.length - 1}`, harness.admin);
    assert.deepEqual(byQuery, live.slice(-1));
    const unknown = await fetch(`${base}/api/jobs/job_unknownunknownunknow/events`, { headers: harness.admin });
    assert.equal(unknown.status, 404);
    const badId = await fetch(url, { headers: { ...harness.admin, 'last-event-id': 'x' } });
    assert.equal(badId.status, 400);
  });

  it('POSTs a signed summary when a job ends, retrying a failed delivery', async () => {
    deliveries.length = 0;
    answer = (attempt) => (attempt === 1 ? 500 : 200);
    const job = await harness.submit({
      type: 'batch-inference',
      model: 'fake-chat',
      inputs: [chat('hook 1'), chat('FAIL hook 2')],
      webhook: { url: receiverUrl },
      metadata: { team: 'support' },
    });
    const delivered = await waitFor('the webhook delivered', async () => {
      const current = await harness.job(job.id);
      return (current.webhook as { status: string }).status === 'delivered' ? current : undefined;
    });
    assert.deepEqual(
      { ...(delivered.webhook as Record<string, unknown>), deliveredAt: undefined },
      { url: receiverUrl, status: 'delivered', attempts: 2, lastError: null, deliveredAt: undefined },
    );
    assert.deepEqual(
      deliveries.map((delivery) => delivery.status),
      [500, 200],
    );
    const [first, second] = deliveries;
    assert.equal(first?.body, second?.body, 'the same event on every attempt');
    const body = JSON.parse(second?.body as string) as {
      id: string;
      type: string;
      data: { id: string; status: string; counts: unknown; metadata: unknown; results: string };
    };
    assert.equal(body.type, 'job.completed');
    assert.equal(body.id, `${job.id}.1`);
    assert.equal(body.data.status, 'completed_with_errors');
    assert.deepEqual(body.data.counts, { total: 2, succeeded: 1, failed: 1, pending: 0 });
    assert.deepEqual(body.data.metadata, { team: 'support' });
    assert.equal(body.data.results, `/api/jobs/${job.id}/results`);

    // The receiver checks the signature with the project's secret.
    const secret = await harness.request('GET', '/api/jobs/webhook-secret');
    assert.equal(secret.status, 200);
    assert.equal(secret.headers['cache-control'], 'no-store');
    const { secret: key } = secret.body as { secret: string };
    assert.match(key, /^whsec_/);
    const header = second?.headers['ensemble-signature'] as string;
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    assert.ok(match, header);
    const expected = createHmac('sha256', key).update(`${match[1]}.${second?.body}`).digest('hex');
    assert.equal(match[2], expected);
    assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 60);
    assert.equal(second?.headers['ensemble-webhook-id'], `${job.id}.1`);
  });

  it('gives a webhook up after its attempts time out; a cancelled job gets a job.cancelled', async () => {
    deliveries.length = 0;
    answer = () => 'hang';
    const job = await harness.submit({
      type: 'batch-inference',
      model: 'fake-chat',
      inputs: Array.from({ length: 40 }, (_, i) => chat(`SLOW:100 cancel ${i}`)),
      webhook: { url: receiverUrl },
    });
    await harness.waitForStatus(job.id, ['running']);
    await harness.request('POST', `/api/jobs/${job.id}/cancel`);
    const failed = await waitFor(
      'the webhook given up',
      async () => {
        const current = await harness.job(job.id);
        return (current.webhook as { status: string }).status === 'failed' ? current : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const webhook = failed.webhook as { attempts: number; lastError: string };
    assert.equal(webhook.attempts, 3);
    assert.match(webhook.lastError, /no answer within 300 ms/);
    assert.equal(deliveries.length, 3);
    assert.equal((JSON.parse(deliveries[0]?.body as string) as { type: string }).type, 'job.cancelled');
  });
});
