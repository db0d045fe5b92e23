// Why the HIL runner's event loop stalled: each gap between two turns of its poll loop
// longer than the stall threshold, attributed to what the main thread was doing meanwhile.
// Three independent witnesses, all on the performance.now() time line:
//  - V8's garbage collections of this isolate (a PerformanceObserver on 'gc' entries, kind
//    and pause),
//  - the runner's own labelled main-thread work (time(label, fn): closing a window of
//    returned audio, its hand-off to the analysis worker, the DUT's memory read, ...),
//  - the kernel's account of the main thread over the stall (/proc/thread-self/schedstat:
//    nanoseconds on a CPU and waiting on a run queue; the rest it slept or was blocked).
// A stall with little CPU and much run-queue wait is the host's (another thread had the
// core); one the thread spent on a CPU is the lab's own work, named by the GC or the label
// that overlaps it, or 'uninstrumented' when neither does.
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental-marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};
/** Recent events kept for matching against the other kind (a GC entry arrives after the turn that saw its stall). */
const RECENT = 256;
/** Stalls kept in detail (the totals count every one). */
const KEPT = 2_000;
/** The main thread's schedstat is read at most this often (ms) while no stall is seen: a stall is bracketed to within it. */
const SCHED_EVERY_MS = 5;

interface Span {
  label: string;
  start: number;
  end: number;
}

export interface Stall {
  /** performance.now() of the turn before it and the turn that ended it (ms). */
  start: number;
  end: number;
  /** Overlap with GC pauses, by kind, and with labelled work, by label (ms). */
  gc: Record<string, number>;
  work: Record<string, number>;
  /** The kernel's account of the main thread over [schedFrom, end] (ms): on a CPU, waiting on a run queue. */
  cpuMs?: number;
  runQueueMs?: number;
  schedSpanMs?: number;
}

export interface StallSummary {
  count: number;
  totalMs: number;
  worstMs: number;
  worstAtMs: number;
  worstCause: string;
  gcMs: Record<string, number>;
  workMs: Record<string, number>;
  cpuMs: number;
  runQueueMs: number;
  /** How many stalls each cause was the largest share of. */
  byCause: Record<string, number>;
  /** All of the isolate's GC over the monitored span (not only in stalls). */
  gcAll: Record<string, { count: number; totalMs: number; maxMs: number }>;
  /** The first stalls kept: seconds since the monitoring started, length (ms), cause. */
  first: { atS: number; ms: number; cause: string }[];
  /** The event loop's delay (perf_hooks.monitorEventLoopDelay, ms). */
  loopDelay: { p50: number; p99: number; max: number };
}

const add = (r: Record<string, number>, k: string, v: number) => {
  if (v > 0) r[k] = (r[k] ?? 0) + v;
};
const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

/** The main thread's schedstat (Linux): [ns on a CPU, ns waiting on a run queue], or undefined elsewhere. */
class SchedStat {
  private fd?: number;
  private readonly buf = Buffer.alloc(96);
  constructor() {
    try {
      this.fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      this.fd = undefined;
    }
  }
  read(): [number, number] | undefined {
    if (this.fd === undefined) return undefined;
    try {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      const text = this.buf.toString('latin1', 0, n);
      const sp1 = text.indexOf(' ');
      const sp2 = text.indexOf(' ', sp1 + 1);
      return [Number(text.slice(0, sp1)), Number(text.slice(sp1 + 1, sp2))];
    } catch {
      return undefined;
    }
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class LoopStallMonitor {
  readonly stalls: Stall[] = [];
  private readonly recentStalls: Stall[] = [];
  private readonly recentGc: Span[] = [];
  private readonly recentWork: Span[] = [];
  private readonly gcAll: StallSummary['gcAll'] = {};
  private count = 0;
  private totalMs = 0;
  private worst?: Stall;
  private readonly gcMs: Record<string, number> = {};
  private readonly workMs: Record<string, number> = {};
  private cpuMs = 0;
  private runQueueMs = 0;
  private readonly byCause: Record<string, number> = {};
  private observer?: PerformanceObserver;
  private histogram?: IntervalHistogram;
  private readonly sched = new SchedStat();
  private schedAt = -Infinity;
  private schedLast?: [number, number];
  private active = false;
  /** performance.now() when the monitoring started (stall times in the summary count from it). */
  startedAt = 0;

  /** `thresholdMs`: a turn this much later than the last is a stall. */
  constructor(readonly thresholdMs: number) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.startedAt = performance.now();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        const g = (this.gcAll[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
        g.count++;
        g.totalMs += e.duration;
        g.maxMs = Math.max(g.maxMs, e.duration);
        const span = { label: kind, start: e.startTime, end: e.startTime + e.duration };
        for (const s of this.recentStalls) this.attributeGc(s, span);
        push(this.recentGc, span);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.histogram = monitorEventLoopDelay({ resolution: 5 });
    this.histogram.enable();
  }

  stop(): void {
    this.active = false;
    this.observer?.disconnect();
    this.histogram?.disable();
    this.sched.close();
  }

  /** Runs `fn` as labelled main-thread work (stalls it overlaps are put down to `label`). */
  time<T>(label: string, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.noteWork(label, start, performance.now());
    }
  }

  noteWork(label: string, start: number, end: number): void {
    if (!this.active) return;
    const span = { label, start, end };
    // A stall already recorded takes its share here (a later one, when it is recorded).
    for (const s of this.recentStalls) {
      const o = overlap(s.start, s.end, start, end);
      add(s.work, label, o);
      add(this.workMs, label, o);
    }
    push(this.recentWork, span);
  }

  /** Called by the poll loop on every turn with the previous turn's and this turn's performance.now(). */
  turn(last: number, now: number): void {
    if (!this.active) return;
    if (now - last <= this.thresholdMs) {
      if (now - this.schedAt >= SCHED_EVERY_MS) {
        this.schedLast = this.sched.read();
        this.schedAt = now;
      }
      return;
    }
    const s: Stall = { start: last, end: now, gc: {}, work: {} };
    const sched = this.sched.read();
    if (sched && this.schedLast) {
      s.cpuMs = (sched[0] - this.schedLast[0]) / 1e6;
      s.runQueueMs = (sched[1] - this.schedLast[1]) / 1e6;
      s.schedSpanMs = now - this.schedAt;
    }
    this.schedLast = sched;
    this.schedAt = now;
    for (const g of this.recentGc) this.attributeGc(s, g, false);
    for (const w of this.recentWork) add(s.work, w.label, overlap(s.start, s.end, w.start, w.end));
    for (const [k, v] of Object.entries(s.gc)) add(this.gcMs, k, v);
    for (const [k, v] of Object.entries(s.work)) add(this.workMs, k, v);
    this.count++;
    this.totalMs += now - last;
    this.cpuMs += s.cpuMs ?? 0;
    this.runQueueMs += s.runQueueMs ?? 0;
    if (!this.worst || now - last > this.worst.end - this.worst.start) this.worst = s;
    if (this.stalls.length < KEPT) this.stalls.push(s);
    push(this.recentStalls, s);
  }

  private attributeGc(s: Stall, g: Span, total = true): void {
    const o = overlap(s.start, s.end, g.start, g.end);
    add(s.gc, g.label, o);
    if (total) add(this.gcMs, g.label, o);
  }

  summary(): StallSummary {
    for (const s of this.stalls) add(this.byCause, causeOf(s).key, 1);
    const h = this.histogram;
    const ms = (ns: number) => Number((ns / 1e6).toFixed(3));
    return {
      count: this.count,
      totalMs: this.totalMs,
      worstMs: this.worst ? this.worst.end - this.worst.start : 0,
      worstAtMs: this.worst?.start ?? 0,
      worstCause: this.worst ? causeOf(this.worst).text : 'none',
      gcMs: this.gcMs,
      workMs: this.workMs,
      cpuMs: this.cpuMs,
      runQueueMs: this.runQueueMs,
      byCause: this.byCause,
      first: this.stalls.slice(0, 30).map((s) => ({ atS: (s.start - this.startedAt) / 1000, ms: s.end - s.start, cause: causeOf(s).key })),
      gcAll: this.gcAll,
      loopDelay: h && h.count > 0 ? { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) } : { p50: 0, p99: 0, max: 0 },
    };
  }
}

function push<T>(ring: T[], x: T): void {
  ring.push(x);
  if (ring.length > RECENT) ring.shift();
}

const f1 = (x: number) => x.toFixed(1);

/**
 * What a stall was, by its largest share: a GC kind or a work label that overlaps it; else
 * from the kernel's account, 'host' (the thread waited on a run queue: the core was another
 * thread's) or 'lab-uninstrumented' (it ran, on code no label covers) or 'off-cpu' (it slept or
 * was blocked in a system call).
 */
export function causeOf(s: Stall): { key: string; text: string } {
  const ms = s.end - s.start;
  const shares: [string, number][] = [...Object.entries(s.gc).map(([k, v]): [string, number] => [`gc:${k}`, v]), ...Object.entries(s.work).map(([k, v]): [string, number] => [`work:${k}`, v])];
  const known = shares.reduce((a, [, v]) => a + v, 0);
  const rest = Math.max(0, ms - known);
  const cpu = s.cpuMs ?? NaN;
  const rq = s.runQueueMs ?? NaN;
  // The kernel's account covers the stall plus at most SCHED_EVERY_MS before it; its CPU time is the known work's and the rest's.
  const cpuRest = Number.isFinite(cpu) ? Math.max(0, Math.min(rest, cpu - known)) : NaN;
  const rqRest = Number.isFinite(rq) ? Math.min(rest, rq) : NaN;
  if (Number.isFinite(cpuRest)) {
    shares.push(['host', rqRest], ['lab-uninstrumented', cpuRest], ['off-cpu', Math.max(0, rest - rqRest - cpuRest)]);
  } else shares.push(['unknown', rest]);
  shares.sort((a, b) => b[1] - a[1]);
  const key = shares[0][0];
  const sched = Number.isFinite(cpu) ? `; main thread on a CPU ${f1(cpu)} ms, waiting on a run queue ${f1(rq)} ms over ${f1(s.schedSpanMs ?? ms)} ms` : '';
  const parts = shares.filter(([, v]) => v >= 0.05).map(([k, v]) => `${k} ${f1(v)} ms`).join(', ');
  return { key, text: `${key} (${f1(ms)} ms: ${parts}${sched})` };
}
