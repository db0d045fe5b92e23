// The runner's real-time priority, raised only for the span that needs it. Started as
// `chrt -f 20 ci/hil/run`, every thread of the runner was SCHED_FIFO from exec on, its
// start-up too: tsx compiling through its loader thread and the esbuild service it spawns
// (FIFO as well). On the shared 2-core host that start-up livelocked (caught 2026-11-25: the
// main thread and tsx's loader thread each ~98 % of a core at FIFO 20, esbuild's threads
// starved behind them, a libuv thread blocked in d_alloc_parallel on a lookup a preempted
// task held; no output for 9 minutes until the test killed it). So the runner starts at
// normal priority and raises its own threads once everything is loaded (the analysis
// worker excepted: its bursts must not hold a core against the senders), and lowers them
// again when the measured span is over.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable the runner takes its SCHED_FIFO priority from (lab/hil/test-rig.ts sets it). */
export const FIFO_ENV = 'AES67_HIL_FIFO';

/** The priority asked for in the environment, undefined when not; a bad value is an error naming the variable. */
export function fifoFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[FIFO_ENV];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new Error(`${FIFO_ENV}=${v}: give a SCHED_FIFO priority 1..99 (or unset it for normal priority)`);
  return n;
}

/** A thread's scheduling policy from /proc (0 SCHED_OTHER, 1 FIFO, ...), undefined when unreadable. */
function policyOf(tid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const p = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[38];
    return p === undefined ? undefined : Number(p);
  } catch {
    return undefined;
  }
}

/** chrt -f|-o -p <priority> <tid>: one thread's policy. */
function chrt(policy: '-f' | '-o', priority: number, tid: string): string | undefined {
  try {
    execFileSync('chrt', [policy, '-p', String(priority), tid], { stdio: 'ignore', timeout: 5_000 });
    return undefined;
  } catch (e) {
    return `${tid} (${(e as Error).message.split('\n')[0]})`;
  }
}

/**
 * Every thread of this process but `except` (thread ids) to SCHED_FIFO `priority`: the main
 * thread, and V8's GC helpers with it (a scavenge waits for its parallel helpers: left at
 * normal priority on a loaded host they made one pause 108 ms). Says what it did.
 */
export function raiseToFifo(priority: number, except: string[] = []): string {
  if (policyOf(String(process.pid)) === undefined) throw new Error(`${FIFO_ENV}=${priority}: this is not Linux (no /proc/self/task); run without it`);
  const raised: string[] = [];
  const failed: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    if (except.includes(tid)) continue;
    const err = chrt('-f', priority, tid);
    if (err) failed.push(err);
    else raised.push(tid);
  }
  if (!raised.includes(String(process.pid))) throw new Error(`${FIFO_ENV}=${priority}: could not raise the runner's main thread to SCHED_FIFO (${failed.join(', ')}); are you root, is chrt installed?`);
  return `SCHED_FIFO ${priority} from the peers' start until the senders stop: ${raised.length} threads (main ${process.pid}), the analysis worker (${except.join(', ') || '-'}) left at normal priority${failed.length ? `; could not raise ${failed.join(', ')}` : ''}`;
}

/** Every thread of this process back to SCHED_OTHER (best effort: called on the way out). */
export function lowerToOther(): void {
  for (const tid of readdirSync('/proc/self/task')) if ((policyOf(tid) ?? 0) !== 0) chrt('-o', 0, tid);
}
