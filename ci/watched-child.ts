// A child process of a live test, watched: its output collected, a promise for its exit and
// one for the moment it printed a given text (or exited without), and a deadline at which
// it is killed, so a peer that hangs never holds a test.
import type { ChildProcess } from 'node:child_process';

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output; resolves at exit; kills it at the deadline so nothing hangs. */
export function watch(child: ChildProcess, deadlineMs: number, readyText?: string): { exited: Promise<Exited>; ready: Promise<void> } {
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (readyText && stderr.includes(readyText)) markReady();
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = new Promise<Exited>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      markReady();
      resolve({ code, stdout, stderr });
    }),
  );
  if (!readyText) markReady();
  return { exited, ready };
}
