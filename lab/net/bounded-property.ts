// Runs a parser property (lab/net/parser-properties.ts) in a worker thread so that a run
// that never returns is caught and reported instead of hanging the test suite: the worker
// announces each input before checking it, and when no run finishes within
// `runTimeoutMs` the worker is terminated and the error names the input it was on. The
// worker's JavaScript heap is capped too, so a parser that grows without bound fails with
// an out-of-memory error rather than taking the machine with it.
import { Worker } from 'node:worker_threads';

export interface BoundedPropertyOptions {
  numRuns: number;
  seed: number;
  /** Longest a single run may take before it counts as a hang. */
  runTimeoutMs?: number;
  /**
   * Longest the worker may take to start (tsx, the properties module and what it reads)
   * before its first run: separate from runTimeoutMs, since on a loaded 2-core machine
   * loading alone took over 10 s and was reported as a hang (default 60 s).
   */
  loadTimeoutMs?: number;
  /** Worker heap limit. */
  heapLimitMb?: number;
  /** The module whose `properties` hold `name` (parser-properties.ts unless a test says). */
  module?: URL;
}

export interface BoundedPropertyReport {
  name: string;
  runs: number;
  /** The slowest run, ms: how far from the hang bound the parser stays. */
  maxRunMs: number;
}

type WorkerMessage =
  | { kind: 'start'; run: number; input: string }
  | { kind: 'done'; runs: number; maxRunMs: number }
  | { kind: 'failed'; message: string };

const workerUrl = new URL('./property-worker.ts', import.meta.url).href;
const defaultModule = new URL('./parser-properties.ts', import.meta.url);

/** Checks `properties[name]` of parser-properties.ts (or `options.module`) in a bounded worker. */
export function checkBounded(name: string, options: BoundedPropertyOptions): Promise<BoundedPropertyReport> {
  const runTimeoutMs = options.runTimeoutMs ?? 10_000;
  // The worker is plain JavaScript until tsx is registered in it.
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: { name, module: (options.module ?? defaultModule).href, numRuns: options.numRuns, seed: options.seed },
    resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb ?? 512 },
  });
  return new Promise<BoundedPropertyReport>((resolve, reject) => {
    let last = 'before the first run (loading the worker)';
    let timer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      worker.removeAllListeners();
      void worker.terminate();
      fn();
    };
    const arm = (ms = runTimeoutMs) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settle(() => reject(new Error(`property ${name} (seed ${options.seed}): no run finished within ${ms} ms; it hung on ${last}`)));
      }, ms);
    };
    arm(options.loadTimeoutMs ?? 60_000);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'start') {
        last = `run ${m.run}: ${m.input}`;
        arm();
      } else if (m.kind === 'done') {
        settle(() => resolve({ name, runs: m.runs, maxRunMs: m.maxRunMs }));
      } else {
        settle(() => reject(new Error(`property ${name} (seed ${options.seed}) failed:\n${m.message}`)));
      }
    });
    worker.on('error', (e) => settle(() => reject(new Error(`property ${name} (seed ${options.seed}): worker died on ${last}: ${e.message}`))));
    worker.on('exit', (code) => settle(() => reject(new Error(`property ${name}: worker exited with code ${code} on ${last}`))));
  });
}
