// setRealTimePriority as the kernel reports it (/proc/<pid>/task/<tid>/stat, fields 40-41:
// rt_priority and policy; 1 is SCHED_FIFO, 0 SCHED_OTHER), in a child Node process:
// - 'main-thread': the main thread at SCHED_FIFO 20, every other thread it had (V8's, libuv's)
//   still SCHED_OTHER, and a process it starts afterwards (what tsx's esbuild or tshark
//   would be) at SCHED_OTHER — reset-on-fork; a thread it starts afterwards too;
// - 'all-threads': every thread it has at SCHED_FIFO 20; back to SCHED_OTHER with 0;
// - raiseThreadsToFifo: every thread but the one excepted (an analysis worker) at SCHED_FIFO
//   20, a process started afterwards at SCHED_OTHER;
// - a priority out of range is refused naming the range.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chrtWorks } from '../dut/test-support.ts';
import { projectRoot } from '../../native/index.ts';
import { setRealTimePriority } from './real-time-priority.ts';

const CHILD = `
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { raiseThreadsToFifo, setRealTimePriority } from ${JSON.stringify(path.join(projectRoot, 'lab/net/real-time-priority.ts'))};
const sched = (pid) => readdirSync('/proc/' + pid + '/task').map((tid) => {
  const f = readFileSync('/proc/' + pid + '/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ');
  return { tid: Number(tid), rtPriority: Number(f[37]), policy: Number(f[38]) };
});
const scope = process.argv.at(-1); // with -e, the first argument after the code
let excepted = -1;
if (scope === 'except-worker') {
  const before0 = new Set(sched(process.pid).map((t) => t.tid));
  const w0 = new Worker('setTimeout(() => {}, 2000)', { eval: true });
  await new Promise((r) => w0.once('online', r));
  excepted = sched(process.pid).find((t) => !before0.has(t.tid))?.tid ?? -1;
  raiseThreadsToFifo(20, [String(excepted)]);
} else setRealTimePriority(20, scope);
const afterRaise = sched(process.pid);
const child = JSON.parse(execFileSync(process.execPath, ['-e', "const f=require('fs').readFileSync('/proc/self/stat','utf8').split(') ')[1].split(' ');console.log(JSON.stringify({rtPriority:Number(f[37]),policy:Number(f[38])}))"], { encoding: 'utf8' }));
const before = new Set(afterRaise.map((t) => t.tid));
const w = new Worker('setTimeout(() => {}, 500)', { eval: true });
await new Promise((r) => w.once('online', r));
const laterThreads = sched(process.pid).filter((t) => !before.has(t.tid));
await w.terminate();
setRealTimePriority(0, scope === 'except-worker' ? 'all-threads' : scope);
console.log(JSON.stringify({ pid: process.pid, excepted, afterRaise, child, laterThreads, afterDrop: sched(process.pid) }));
process.exit(0);
`;

function runChild(scope: string) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, scope], { cwd: projectRoot, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as {
    pid: number;
    excepted: number;
    afterRaise: { tid: number; rtPriority: number; policy: number }[];
    child: { rtPriority: number; policy: number };
    laterThreads: { tid: number; rtPriority: number; policy: number }[];
    afterDrop: { tid: number; policy: number }[];
  };
}

describe.skipIf(!chrtWorks)(`setRealTimePriority (${chrtWorks ? 'chrt -f works' : 'needs root or CAP_SYS_NICE and chrt: chrt -f 20 true failed'})`, () => {
  it("'main-thread': only the main thread at SCHED_FIFO 20; threads and processes started later at SCHED_OTHER", () => {
    const r = runChild('main-thread');
    const main = r.afterRaise.find((t) => t.tid === r.pid)!;
    expect(main).toMatchObject({ policy: 1, rtPriority: 20 });
    const others = r.afterRaise.filter((t) => t.tid !== r.pid);
    expect(others.length).toBeGreaterThan(2);
    expect(others.every((t) => t.policy === 0)).toBe(true);
    expect(r.child).toEqual({ policy: 0, rtPriority: 0 });
    expect(r.laterThreads.length).toBeGreaterThan(0);
    expect(r.laterThreads.every((t) => t.policy === 0)).toBe(true);
    expect(r.afterDrop.every((t) => t.policy === 0)).toBe(true);
  });

  it("'all-threads': every thread at SCHED_FIFO 20, children still at SCHED_OTHER; 0 drops them all", () => {
    const r = runChild('all-threads');
    expect(r.afterRaise.filter((t) => t.policy !== 1 || t.rtPriority !== 20)).toEqual([]);
    expect(r.child).toEqual({ policy: 0, rtPriority: 0 });
    expect(r.afterDrop.every((t) => t.policy === 0)).toBe(true);
  });

  it('raiseThreadsToFifo: every thread but the excepted worker at SCHED_FIFO 20; children at SCHED_OTHER', () => {
    const r = runChild('except-worker');
    expect(r.excepted).toBeGreaterThan(0);
    expect(r.afterRaise.find((t) => t.tid === r.excepted)).toMatchObject({ policy: 0 });
    expect(r.afterRaise.filter((t) => t.tid !== r.excepted && (t.policy !== 1 || t.rtPriority !== 20))).toEqual([]);
    expect(r.child).toEqual({ policy: 0, rtPriority: 0 });
    expect(r.afterDrop.every((t) => t.policy === 0)).toBe(true);
  });

  it('refuses a priority outside 0-98 naming the range', () => {
    expect(() => setRealTimePriority(99, 'main-thread')).toThrow(/give a whole number 1-98/);
    expect(() => setRealTimePriority(2.5, 'main-thread')).toThrow(/give a whole number 1-98/);
  });
});
