import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheus, ratesOf, sampleMetrics } from './prometheus.ts';

const scrape = (calls: number, failed: number, seconds: number) => `# HELP ensemble_http_requests_total Requests
# TYPE ensemble_http_requests_total counter
ensemble_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} ${calls}
ensemble_http_requests_total{method="POST",route="/v1/chat/completions",status="502"} ${failed}
ensemble_http_requests_total{method="GET",route="/api/models",status="200"} 999
ensemble_http_request_duration_seconds_sum{method="POST",route="/v1/chat/completions",status="200"} ${seconds}
process_resident_memory_bytes 1048576
ensemble_consumer_lag{group="g",topic="t",partition="0"} 3
ensemble_consumer_lag{group="g",topic="t",partition="1"} 4
`;

describe('live metrics from /metrics', () => {
  it('parses names, escaped labels and values', () => {
    const [sample] = parsePrometheus('x_total{a="q\\"uote",b="2"} 1.5e3\n# comment\n\n');
    assert.deepEqual(sample, { name: 'x_total', labels: { a: 'q"uote', b: '2' }, value: 1500 });
  });

  it('counts model calls only (not the console polling the API), failures and consumer lag', () => {
    const sample = sampleMetrics(parsePrometheus(scrape(10, 2, 4)), 1000);
    assert.equal(sample.calls, 12);
    assert.equal(sample.failedCalls, 2);
    assert.equal(sample.consumerLag, 7);
    assert.equal(sample.residentBytes, 1048576);
  });

  it('turns consecutive scrapes into requests per second, error rate and mean latency', () => {
    const first = sampleMetrics(parsePrometheus(scrape(10, 0, 1)), 0);
    const second = sampleMetrics(parsePrometheus(scrape(30, 5, 3)), 5_000);
    const [rate] = ratesOf([first, second]);
    assert.equal(rate?.requestsPerSecond, 5);
    assert.equal(rate?.errorRate, 0.2);
    assert.equal(rate?.meanLatencyMs, 80);
  });

  it('starts over when a counter goes down (the server restarted)', () => {
    const first = sampleMetrics(parsePrometheus(scrape(100, 0, 10)), 0);
    const second = sampleMetrics(parsePrometheus(scrape(4, 0, 1)), 2_000);
    assert.equal(ratesOf([first, second])[0]?.requestsPerSecond, 2);
  });
});
