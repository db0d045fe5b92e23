// Worker side of bounded-property.ts: checks one property of a properties module (by
// default parser-properties.ts) with fast-check, announcing every input before checking it.
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import type { ParserProperty } from './parser-properties.ts';

const { name, module, numRuns, seed } = workerData as { name: string; module: string; numRuns: number; seed: number };
const port = parentPort!;
const { properties } = (await import(module)) as { properties: Record<string, ParserProperty<unknown>> };
const property = properties[name];
if (!property) {
  port.postMessage({ kind: 'failed', message: `no property "${name}" (have: ${Object.keys(properties).join(', ')})` });
} else {
  let run = 0;
  let maxRunMs = 0;
  let outcome: { kind: 'done'; runs: number; maxRunMs: number } | { kind: 'failed'; message: string };
  try {
    fc.assert(
      fc.property(property.arbitrary(), (input) => {
        port.postMessage({ kind: 'start', run: ++run, input: property.describe(input) });
        const t0 = performance.now();
        try {
          property.check(input);
        } finally {
          maxRunMs = Math.max(maxRunMs, performance.now() - t0);
        }
      }),
      { numRuns, seed },
    );
    outcome = { kind: 'done', runs: run, maxRunMs };
  } catch (e) {
    // fast-check keeps the check's own error as the cause: pass it on, stack and all.
    const cause = (e as Error).cause;
    const detail = cause instanceof Error ? `\n${cause.stack ?? String(cause)}` : cause !== undefined ? `\n${String(cause)}` : '';
    outcome = { kind: 'failed', message: `${(e as Error).message}${detail}` };
  }
  // Before reporting: the parent terminates the worker as soon as it hears the outcome.
  property.cleanup?.();
  port.postMessage(outcome);
}
