// SCHED_FIFO for a lab process that must keep its packets' due times on a busy host, taken
// once the process has started and never inherited by what it starts later.
//
// Why not start under `chrt -f`: Node and tsx loading the lab's modules is a second or more
// of CPU, and at SCHED_FIFO it runs to completion over the peers already sending at the
// same priority (measured: every sender stalled 20-76 ms while receivers started). Worse,
// tsx's esbuild service (a Go program: its runtime spins idle threads looking for work)
// then runs at SCHED_FIFO too: seen 2026-11-25, a runner's node and its esbuild held both
// cores of the 2-core host at ~92 % each for minutes, and every other SCHED_FIFO 20 lab
// process on the host (same priority: no time slicing between them) hung with them. So the
// priority is taken after start-up, with reset-on-fork (chrt -R): child processes (esbuild,
// tshark, chromium) and threads started later begin at SCHED_OTHER.
// V8's GC helper threads want the main thread's priority too: a scavenge waits for its
// parallel helpers, and left at normal priority on a loaded host they made one pause 108 ms
// (soak3, 2026-11-25). Hence raiseThreadsToFifo for a runner: every thread but the ones named.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

export type PriorityScope = 'main-thread' | 'all-threads';

/**
 * Takes SCHED_FIFO `priority` (1-98) for this process's main thread, or for every thread it
 * has now (V8's and libuv's helpers too) with 'all-threads'; 0 returns to SCHED_OTHER.
 * Throws naming the reason when chrt fails (not root, no CAP_SYS_NICE, no chrt).
 */
export function setRealTimePriority(priority: number, scope: PriorityScope): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > 98) throw new Error(`SCHED_FIFO priority ${priority}: give a whole number 1-98 (0 for normal scheduling)`);
  const all = scope === 'all-threads' ? ['-a'] : [];
  const args = priority > 0 ? [...all, '-f', '-R', '-p', String(priority), String(process.pid)] : [...all, '-o', '-p', '0', String(process.pid)];
  try {
    execFileSync('chrt', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
  } catch (e) {
    throw new Error(`chrt ${args.join(' ')} failed (SCHED_FIFO needs root or CAP_SYS_NICE; is chrt installed?): ${(e as Error).message}`);
  }
}

/**
 * Every thread of this process but `except` (thread ids, e.g. an analysis worker whose
 * bursts must not hold a core against the senders) at SCHED_FIFO `priority`, with
 * reset-on-fork. Returns what it did, for the report; throws when the main thread cannot be
 * raised (other threads that fail are named, not fatal: they may have just ended).
 */
export function raiseThreadsToFifo(priority: number, except: string[] = []): string {
  if (!Number.isInteger(priority) || priority < 1 || priority > 98) throw new Error(`SCHED_FIFO priority ${priority}: give a whole number 1-98`);
  const raised: string[] = [];
  const failed: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    if (except.includes(tid)) continue;
    try {
      execFileSync('chrt', ['-f', '-R', '-p', String(priority), tid], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
      raised.push(tid);
    } catch (e) {
      failed.push(`${tid} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (!raised.includes(String(process.pid))) throw new Error(`could not raise the main thread to SCHED_FIFO ${priority} (${failed.join(', ')}): SCHED_FIFO needs root or CAP_SYS_NICE; is chrt installed?`);
  return `SCHED_FIFO ${priority}: ${raised.length} threads (main ${process.pid})${except.length ? `, ${except.join(', ')} left at normal priority` : ''}${failed.length ? `; could not raise ${failed.join(', ')}` : ''}`;
}
