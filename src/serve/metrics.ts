/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format (version 0.0.4). Gauges read from the store are refreshed by
 * collectors just before each scrape, so nothing is polled between scrapes.
 */

/** Label names to values. */
export type Labels = Record<string, string>;

/** The content type of `/metrics`. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  lines(): string[];
}

/** A value per label set. */
abstract class Valued implements Metric {
  abstract readonly type: 'counter' | 'gauge';
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  /** The value for a label set (0 when never set). */
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  protected add(labels: Labels, n: number): void {
    const k = keyOf(labels);
    const cur = this.values.get(k);
    if (cur) cur.value += n;
    else this.values.set(k, { labels: { ...labels }, value: n });
  }
  lines(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${num(v.value)}`);
  }
}

/** A count that only goes up. */
export class Counter extends Valued {
  readonly type = 'counter' as const;
  /** Adds `n` (default 1) to the label set's count. */
  inc(labels: Labels = {}, n = 1): void {
    this.add(labels, n);
  }
}

/** A value that goes up and down. */
export class Gauge extends Valued {
  readonly type = 'gauge' as const;
  /** Sets the label set's value. */
  set(labels: Labels, value: number): void {
    this.values.set(keyOf(labels), { labels: { ...labels }, value });
  }
  /** Drops every label set (before a collector sets the current ones). */
  reset(): void {
    this.values.clear();
  }
}

/** Observations counted in cumulative buckets, with their sum and count. */
export class Histogram implements Metric {
  readonly type = 'histogram' as const;
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  /** Counts one observation. */
  observe(labels: Labels, value: number): void {
    const k = keyOf(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(s.labels, ['le', num(b)])} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** The metrics of one process and the collectors that refresh store-derived ones. */
export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: Array<() => void> = [];

  /** Registers a counter. */
  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }
  /** Registers a gauge. */
  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }
  /** Registers a histogram with these bucket upper bounds (ascending; `+Inf` is added). */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }
  /** Runs before every render (e.g. to read counts from the store). */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }

  private register<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.push(m);
    return m;
  }

  /** The exposition text. A failing collector leaves its metrics as they were. */
  render(): string {
    for (const c of this.collectors) {
      try {
        c();
      } catch {
        // e.g. the store is locked for longer than its busy timeout: scrape what we have.
      }
    }
    const out: string[] = [];
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`, `# TYPE ${m.name} ${m.type}`, ...m.lines());
    }
    return out.join('\n') + '\n';
  }
}
