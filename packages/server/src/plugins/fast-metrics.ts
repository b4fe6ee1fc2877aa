import type { Registry } from 'prom-client';

/** What prom-client's registry reads from a metric when it renders `/metrics`. */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface CounterSeries {
  labels: Record<string, string>;
  value: number;
}

interface HistogramSeries {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * A counter for the request path: a series is found by a key the caller builds from its label
 * values, and adding is `+=` — no label hashing per call (prom-client's children hash their labels
 * on every `inc`). prom-client's registry renders it like its own.
 */
export class FastCounter {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly string[];
  readonly #series = new Map<string, CounterSeries>();

  constructor(options: { name: string; help: string; labelNames: readonly string[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    options.registry.registerMetric(this as never);
  }

  /** `key` must identify `values` (e.g. joined with `|`); `values` is read only the first time. */
  add(key: string, values: readonly string[], amount = 1): void {
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: labelsOf(this.#labelNames, values), value: 0 };
      this.#series.set(key, series);
    }
    series.value += amount;
  }

  async get() {
    const values: MetricValue[] = [...this.#series.values()].map((series) => ({
      labels: series.labels,
      value: series.value,
    }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}

/** A histogram for the request path, like `FastCounter`: buckets found by a short loop, counts added. */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
    registry: Registry;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    options.registry.registerMetric(this as never);
  }

  observe(key: string, values: readonly string[], value: number): void {
    let series = this.#series.get(key);
    if (series === undefined) {
      series = {
        labels: labelsOf(this.#labelNames, values),
        buckets: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, series);
    }
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index += 1;
    (series.buckets as Float64Array)[index] = ((series.buckets as Float64Array)[index] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let index = 0; index <= this.#bounds.length; index += 1) {
        cumulative += series.buckets[index] as number;
        const le = index < this.#bounds.length ? (this.#bounds[index] as number) : '+Inf';
        values.push({ labels: { le, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, index) => {
    labels[name] = values[index] ?? '';
  });
  return labels;
}
