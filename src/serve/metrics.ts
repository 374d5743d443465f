/**
 * The server's metrics in the Prometheus text exposition format (version 0.0.4), kept by hand: counters and
 * histograms with fixed label sets, so that no request can create new series (unknown routes share the label
 * `unmatched`).
 */

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
  }
  /** Lines of a histogram series: cumulative buckets, +Inf, sum and count. */
  lines(name: string, labels: string): string[] {
    const out: string[] = [];
    let cum = 0;
    const sep = labels ? `${labels},` : "";
    this.bounds.forEach((b, i) => {
      cum += this.counts[i]!;
      out.push(`${name}_bucket{${sep}le="${b}"} ${cum}`);
    });
    out.push(`${name}_bucket{${sep}le="+Inf"} ${this.count}`);
    out.push(`${name}_sum${labels ? `{${labels}}` : ""} ${this.sum}`);
    out.push(`${name}_count${labels ? `{${labels}}` : ""} ${this.count}`);
    return out;
  }
}

const LATENCY_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const COMPUTE_BOUNDS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class ServeMetrics {
  private readonly requests = new Map<string, { route: string; method: string; status: number; n: number }>();
  private readonly errors = new Map<string, { route: string; status: number; n: number }>();
  private readonly latency = new Map<string, Histogram>();
  private readonly batchRows = new Histogram(BATCH_BOUNDS);
  private readonly batchRequests = new Histogram(BATCH_BOUNDS);
  private readonly batchSeconds = new Histogram(COMPUTE_BOUNDS_S);
  private readonly started = Date.now();
  inFlight = 0;

  /** One finished request. @param route the matched route (`/act`) or `unmatched` */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    const r = this.requests.get(key);
    if (r) r.n++;
    else this.requests.set(key, { route, method, status, n: 1 });
    let h = this.latency.get(route);
    if (!h) this.latency.set(route, (h = new Histogram(LATENCY_BOUNDS_S)));
    h.observe(seconds);
    if (status >= 400) {
      const ek = `${route} ${status}`;
      const e = this.errors.get(ek);
      if (e) e.n++;
      else this.errors.set(ek, { route, status, n: 1 });
    }
  }

  /** One run of the policy: rows, how many requests they came from, and its compute time. */
  batch(rows: number, requests: number, seconds: number): void {
    this.batchRows.observe(rows);
    this.batchRequests.observe(requests);
    this.batchSeconds.observe(seconds);
  }

  /** Largest number of requests run as one batch so far (0 before the first batch). */
  maxBatchRequests(): number {
    for (let i = BATCH_BOUNDS.length - 1; i >= 0; i--) if (this.batchRequests.counts[i]! > 0) return BATCH_BOUNDS[i]!;
    return 0;
  }

  render(): string {
    const L: string[] = [];
    L.push("# HELP qttdm_serve_requests_total HTTP requests answered, by route, method and status.");
    L.push("# TYPE qttdm_serve_requests_total counter");
    for (const r of this.requests.values()) L.push(`qttdm_serve_requests_total{route="${esc(r.route)}",method="${esc(r.method)}",status="${r.status}"} ${r.n}`);
    L.push("# HELP qttdm_serve_errors_total Requests answered with a 4xx or 5xx status, by route and status.");
    L.push("# TYPE qttdm_serve_errors_total counter");
    for (const e of this.errors.values()) L.push(`qttdm_serve_errors_total{route="${esc(e.route)}",status="${e.status}"} ${e.n}`);
    L.push("# HELP qttdm_serve_request_duration_seconds Time from a request's arrival to its response, by route.");
    L.push("# TYPE qttdm_serve_request_duration_seconds histogram");
    for (const [route, h] of this.latency) L.push(...h.lines("qttdm_serve_request_duration_seconds", `route="${esc(route)}"`));
    L.push("# HELP qttdm_serve_batch_rows Observations per policy run (micro-batches).");
    L.push("# TYPE qttdm_serve_batch_rows histogram");
    L.push(...this.batchRows.lines("qttdm_serve_batch_rows", ""));
    L.push("# HELP qttdm_serve_batch_requests Requests combined into one policy run.");
    L.push("# TYPE qttdm_serve_batch_requests histogram");
    L.push(...this.batchRequests.lines("qttdm_serve_batch_requests", ""));
    L.push("# HELP qttdm_serve_batch_seconds Compute time of one policy run.");
    L.push("# TYPE qttdm_serve_batch_seconds histogram");
    L.push(...this.batchSeconds.lines("qttdm_serve_batch_seconds", ""));
    L.push("# HELP qttdm_serve_in_flight_requests Requests received and not yet answered.");
    L.push("# TYPE qttdm_serve_in_flight_requests gauge");
    L.push(`qttdm_serve_in_flight_requests ${this.inFlight}`);
    const cpu = process.cpuUsage();
    L.push("# HELP process_cpu_seconds_total User and system CPU time of the server process.");
    L.push("# TYPE process_cpu_seconds_total counter");
    L.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    L.push("# HELP process_resident_memory_bytes Resident memory of the server process.");
    L.push("# TYPE process_resident_memory_bytes gauge");
    L.push(`process_resident_memory_bytes ${process.memoryUsage.rss()}`);
    L.push("# HELP qttdm_serve_uptime_seconds Seconds since the server started.");
    L.push("# TYPE qttdm_serve_uptime_seconds gauge");
    L.push(`qttdm_serve_uptime_seconds ${(Date.now() - this.started) / 1000}`);
    return L.join("\n") + "\n";
  }
}
