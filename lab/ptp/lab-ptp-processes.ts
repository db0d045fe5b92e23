// The lab's own PTP commands started in a test's network namespace, as a user runs them:
// `aes67-lab emulate grandmaster` (the emulator) and `aes67-lab ptp follow` (the engine's
// slave). Each is a separate process, so the crossing tests see them as ptp4l does: over
// the wire, and through what they print.
import path from 'node:path';
import type { Netns } from '../../ci/netns.ts';
import { projectRoot } from '../../native/index.ts';
import { ChildLines, monotonicStamp } from './child-lines.ts';
import type { FollowSummary } from './ptp-follow.ts';

function labCli(net: Netns, host: string, args: string[]) {
  return net.spawn(host, process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), ...args], { cwd: projectRoot });
}

export interface EmulatorProcess {
  lines: ChildLines;
  /** Its identity and CLOCK_MONOTONIC start, from its first line ("[t] grandmaster ID on eth0 ..."). */
  started: Promise<{ identity: string; at: number }>;
  /** Exit code and its --json summary (undefined when it printed none, e.g. killed). */
  exited(timeoutMs: number): Promise<{ code: number | null; summary: EmulatorSummary | undefined }>;
}

/** What `emulate grandmaster --json` prints at the end (the fields the tests read). */
export interface EmulatorSummary {
  identity: string;
  state: 'master' | 'passive';
  priority1: number;
  counts: Record<string, number> & { ignored: Record<string, number>; malformed: Record<string, number> };
}

/** `aes67-lab emulate grandmaster --interface eth0 --json ARGS` on `host`. */
export function startEmulator(net: Netns, host: string, args: string[]): EmulatorProcess {
  const lines = new ChildLines(labCli(net, host, ['emulate', 'grandmaster', '--interface', 'eth0', '--json', ...args]), `emulator@${host}`);
  const started = lines.waitFor(/^\[(\d+\.\d+)\] grandmaster (\S+) on eth0/, 30_000).then((m) => ({ identity: m[2], at: Number(m[1]) }));
  // Keep an unobserved rejection from failing the run when a test ends early.
  started.catch(() => undefined);
  return {
    lines,
    started,
    async exited(timeoutMs) {
      const code = await lines.exited(timeoutMs);
      let summary: EmulatorSummary | undefined;
      try {
        summary = JSON.parse(lines.stdout) as EmulatorSummary;
      } catch {
        summary = undefined;
      }
      return { code, summary };
    },
  };
}

/** When the emulator's script did `what` (its "[t] what" line), in CLOCK_MONOTONIC seconds. */
export async function emulatorEventAt(e: EmulatorProcess, what: string, timeoutMs: number, from = 0): Promise<number> {
  const m = await e.lines.waitFor(new RegExp(`^\\[\\d+\\.\\d+\\] ${what}`), timeoutMs, from);
  return monotonicStamp(m[0]);
}

export interface FollowProcess {
  lines: ChildLines;
  /** Exit code and the parsed --json summary; throws when it printed no JSON. */
  summary(timeoutMs: number): Promise<{ code: number | null; summary: FollowSummary }>;
}

/** `aes67-lab ptp follow --interface eth0 --json --seconds S ARGS` on `host`. */
export function startFollow(net: Netns, host: string, seconds: number, args: string[] = []): FollowProcess {
  const lines = new ChildLines(labCli(net, host, ['ptp', 'follow', '--interface', 'eth0', '--seconds', String(seconds), '--json', ...args]), `follow@${host}`);
  return {
    lines,
    async summary(timeoutMs) {
      const code = await lines.exited(timeoutMs);
      const text = lines.stdout;
      const start = text.indexOf('{');
      if (start < 0) throw new Error(`ptp follow printed no JSON (exit ${code}):\n${lines.lines.slice(-30).join('\n')}`);
      return { code, summary: JSON.parse(text.slice(start)) as FollowSummary };
    },
  };
}
