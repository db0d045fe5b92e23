// The output of a child process (ptp4l, the lab's own CLI in a namespace) as lines, with
// waits for a line that matches, each bounded in time. Live PTP tests read what ptp4l and
// the emulator log -- identities, state changes, offsets -- rather than trusting the side
// they test.
import type { ChildProcess } from 'node:child_process';

export type LineMatch = RegExpMatchArray & { line: number };

export class ChildLines {
  readonly lines: string[] = [];
  /** stdout alone (a CLI's --json summary), as text. */
  stdout = '';
  private waiters: { re: RegExp; from: number; resolve: (m: LineMatch) => void }[] = [];
  private partial = { stdout: '', stderr: '' };
  private readonly exitWaiters: ((code: number | null) => void)[] = [];
  exitCode: number | null | undefined;

  constructor(readonly child: ChildProcess, readonly name: string) {
    const feed = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
      const text = d.toString();
      if (stream === 'stdout') this.stdout += text;
      const parts = (this.partial[stream] + text).split('\n');
      this.partial[stream] = parts.pop()!;
      for (const l of parts) this.add(l);
    };
    child.stdout?.on('data', feed('stdout'));
    child.stderr?.on('data', feed('stderr'));
    child.on('exit', (code) => {
      for (const s of ['stdout', 'stderr'] as const) if (this.partial[s]) this.add(this.partial[s]);
      this.partial = { stdout: '', stderr: '' };
      this.exitCode = code;
      for (const w of this.exitWaiters.splice(0)) w(code);
    });
  }

  private add(line: string): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      const m = this.find(w.re, w.from);
      if (m) w.resolve(m);
      return !m;
    });
  }

  /** The first line from index `from` on that matches, with its index. */
  find(re: RegExp, from = 0): LineMatch | undefined {
    for (let i = from; i < this.lines.length; i++) {
      const m = this.lines[i].match(re);
      if (m) return Object.assign(m, { line: i });
    }
    return undefined;
  }

  /** Every line from `from` on that matches. */
  findAll(re: RegExp, from = 0): LineMatch[] {
    const out: LineMatch[] = [];
    for (let i = from; i < this.lines.length; i++) {
      const m = this.lines[i].match(re);
      if (m) out.push(Object.assign(m, { line: i }));
    }
    return out;
  }

  /** Resolves with the first matching line from `from` on; rejects after `timeoutMs` with the last lines. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<LineMatch> {
    const found = this.find(re, from);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      const done = (m: LineMatch) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ re, from, resolve: done });
    });
  }

  /** Resolves with the exit code; kills the child (SIGKILL) and rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`${this.name}: still running after ${timeoutMs} ms (killed); last lines:\n${this.lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      this.exitWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}

/**
 * The CLOCK_MONOTONIC seconds in a line's leading brackets: ptp4l's "ptp4l[1234.567]:" and
 * the emulator's "[1234.567]". Every namespace shares the one monotonic clock, so these
 * compare directly with each other and with `ptp follow --json`'s `changes[].atS`.
 */
export function monotonicStamp(line: string): number {
  const m = /^\S*?\[(\d+\.\d+)\]/.exec(line);
  if (!m) throw new Error(`no [seconds] stamp at the start of "${line}"`);
  return Number(m[1]);
}

/** The current CLOCK_MONOTONIC time in seconds (Node's hrtime is CLOCK_MONOTONIC on Linux). */
export function monotonicNowS(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}
