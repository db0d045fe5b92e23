// linuxptp's ptp4l and pmc as the independent side of the live PTP crossings: a config
// for the AES67 media profile with software time stamps, ptp4l started in a test's
// network namespace, pmc queries against its own UDS socket, and its "master offset"
// lines read back. Every ptp4l here leaves the shared system clock alone: `free_running 1`
// whatever its role (a master-capable ptp4l becomes a slave when it hears a better master),
// and nothing runs phc2sys.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Netns } from '../../ci/netns.ts';
import { ChildLines } from './child-lines.ts';

/** The tools of `names` that are not on PATH. */
export function missingTools(names: string[]): string[] {
  return names.filter((name) => {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

export interface Ptp4lOptions {
  /** 'slave': slaveOnly (-s); 'master-only': masterOnly 1, never yields (ignores Announce); 'bmca': either, by the BMCA. */
  role: 'slave' | 'master-only' | 'bmca';
  priority1?: number;
  priority2?: number;
  domain?: number;
  /**
   * As many "master offset" lines as a free-running ptp4l prints: summary_interval -3 (each
   * estimate printed, not summarised) and freq_est_interval 0, its least. Free running, ptp4l
   * prints a line only when its rate estimator closes a window of 2^(freq_est_interval -
   * logSyncInterval) Syncs (clock.c, clock_no_adjust): one a second at the AES67 rate of 8 Syncs
   * a second, whatever else is set.
   */
  everyOffset?: boolean;
  /** Extra `[global]` lines. */
  extra?: string[];
}

/**
 * A ptp4l configuration: AES67 media profile intervals (announce 1, sync -3, delay_req -3,
 * receipt time-out 3), software time stamps, free running, its own UDS socket (the
 * namespaces share one file system, so two ptp4l on the default socket would collide).
 */
export function ptp4lConfig(o: Ptp4lOptions, udsAddress: string): string {
  return [
    '[global]',
    'time_stamping software',
    'free_running 1',
    `uds_address ${udsAddress}`,
    `domainNumber ${o.domain ?? 0}`,
    'logAnnounceInterval 1',
    'logSyncInterval -3',
    'logMinDelayReqInterval -3',
    'announceReceiptTimeout 3',
    ...(o.everyOffset ? ['freq_est_interval 0', 'summary_interval -3'] : []),
    ...(o.role === 'slave' ? ['slaveOnly 1'] : []),
    ...(o.role === 'master-only' ? ['masterOnly 1'] : []),
    ...(o.priority1 !== undefined ? [`priority1 ${o.priority1}`] : []),
    ...(o.priority2 !== undefined ? [`priority2 ${o.priority2}`] : []),
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

export interface Ptp4lProcess {
  child: ChildProcess;
  lines: ChildLines;
  /** Its UDS socket, for pmc. */
  uds: string;
  config: string;
  host: string;
}

/** ptp4l -m on `host`'s eth0 with ptp4lConfig(o); the config and socket live in `dir`. */
export function startPtp4l(net: Netns, host: string, dir: string, o: Ptp4lOptions): Ptp4lProcess {
  const uds = path.join(dir, `ptp4l-${host}.sock`);
  const config = path.join(dir, `ptp4l-${host}.cfg`);
  writeFileSync(config, ptp4lConfig(o, uds));
  const child = net.spawn(host, 'ptp4l', ['-f', config, '-i', 'eth0', '-m']);
  return { child, lines: new ChildLines(child, `ptp4l@${host}`), uds, config, host };
}

/** `pmc GET <what>` against a ptp4l's own UDS socket, as { field: value }; throws when pmc gives no fields. */
export function pmcGet(net: Netns, p: Ptp4lProcess, dir: string, what: string): Record<string, string> {
  // pmc binds a socket of its own too: a unique name per call.
  const own = path.join(dir, `pmc-${p.host}-${process.hrtime.bigint()}`);
  const out = net.exec(p.host, 'pmc', ['-u', '-b', '0', '-s', p.uds, '-i', own, `GET ${what}`], 15_000);
  const fields: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const m = /^\s+(\S+)\s+(\S+)\s*$/.exec(l);
    if (m) fields[m[1]] = m[2];
  }
  if (Object.keys(fields).length === 0) throw new Error(`pmc GET ${what} on ${p.host} gave no fields:\n${out}`);
  return fields;
}

/** The identity ptp4l logs when it takes its own clock as the best master ("selected local clock X"). */
export async function ptp4lLocalIdentity(p: Ptp4lProcess, timeoutMs: number): Promise<string> {
  return (await p.lines.waitFor(/selected local clock (\S+) as best master/, timeoutMs))[1];
}

export interface Ptp4lOffset {
  /** CLOCK_MONOTONIC seconds of the line. */
  at: number;
  offsetNs: number;
  /** s0 / s1 / s2. */
  state: string;
  pathDelayNs: number;
}

/** ptp4l's "master offset N sK freq F path delay D" lines, in order. */
export function ptp4lOffsets(lines: string[]): Ptp4lOffset[] {
  const out: Ptp4lOffset[] = [];
  for (const l of lines) {
    const m = /\[(\d+\.\d+)\].*master offset\s+(-?\d+)\s+(s\d)\s+freq\s+\S+\s+path delay\s+(-?\d+)/.exec(l);
    if (m) out.push({ at: Number(m[1]), offsetNs: Number(m[2]), state: m[3], pathDelayNs: Number(m[4]) });
  }
  return out;
}

export interface OffsetStats {
  samples: number;
  meanNs: number;
  medianNs: number;
  rmsNs: number;
  maxAbsNs: number;
}

export function offsetStats(offsets: number[]): OffsetStats {
  if (offsets.length === 0) throw new Error('offsetStats: no offsets');
  const sorted = [...offsets].sort((a, b) => a - b);
  return {
    samples: offsets.length,
    meanNs: offsets.reduce((s, x) => s + x, 0) / offsets.length,
    medianNs: sorted[sorted.length >> 1],
    rmsNs: Math.sqrt(offsets.reduce((s, x) => s + x * x, 0) / offsets.length),
    maxAbsNs: Math.max(...offsets.map(Math.abs)),
  };
}

/** Escapes a clock identity (or any text) for a RegExp. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
