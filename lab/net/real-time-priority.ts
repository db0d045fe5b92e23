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
// tshark, chromium) and threads started later (the analysis worker) begin at SCHED_OTHER.
import { execFileSync } from 'node:child_process';

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
