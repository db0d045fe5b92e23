// Runs the engine's PTP slave on a real interface in real time and measures it: what
// ptp4l -m shows (state, grandmaster, offset, path delay, frequency) once a second, and
// a summary -- lock time, offset rms and max while locked. Receive time stamps are the
// kernel's (SO_TIMESTAMPNS), so the 5 ms polling here costs no accuracy.
import { loadNative } from '../../native/index.ts';
import type { NativePtpSlave, PtpOffsetRecord, PtpSlaveOptions, PtpSlaveStatus } from '../../native/ptp.ts';

export interface FollowOptions extends PtpSlaveOptions {
  interface: string;
  /** Stop after this many seconds (default: until the signal aborts). */
  seconds?: number;
  signal?: AbortSignal;
  /** One line a second, and on every state or grandmaster change. */
  onLine?: (line: string) => void;
  pollIntervalMs?: number;
}

export interface FollowSummary {
  interface: string;
  clockIdentity: string;
  /** Locked (s2/s3) when the run ended. */
  locked: boolean;
  grandmaster: string | null;
  /** Seconds from start to the first lock, null if it never locked. */
  lockTimeS: number | null;
  /** Offsets reported while locked, from the first lock on. */
  offsetRmsNs: number | null;
  offsetMaxNs: number | null;
  offsetMeanNs: number | null;
  /**
   * PTP time minus this host's CLOCK_REALTIME, sampled every 100 ms while locked. When the
   * grandmaster runs on this host's system clock (ptp4l with software time stamps in a
   * namespace here) the true offset is zero and this is the slave's real error.
   */
  systemClockOffset: { rmsNs: number; maxNs: number; meanNs: number; samples: number } | null;
  pathDelayNs: number | null;
  frequencyPpb: number;
  samples: number;
  lockedSamples: number;
  durationS: number;
  portState: PtpSlaveStatus['portState'];
  servoState: PtpSlaveStatus['servoState'];
  counters: PtpSlaveStatus['counters'];
}

/** Offset statistics of the records taken while locked, from `from` (local ns) on. */
export function lockedOffsetStats(records: PtpOffsetRecord[], from: number): { rms: number; max: number; mean: number; n: number } | null {
  const locked = records.filter((r) => r.locked && r.at >= from);
  if (locked.length === 0) return null;
  let sum = 0;
  let sq = 0;
  let max = 0;
  for (const r of locked) {
    sum += r.offsetNs;
    sq += r.offsetNs * r.offsetNs;
    max = Math.max(max, Math.abs(r.offsetNs));
  }
  return { rms: Math.sqrt(sq / locked.length), max, mean: sum / locked.length, n: locked.length };
}

const sign = (x: number) => (x >= 0 ? `+${Math.round(x)}` : `${Math.round(x)}`);

export async function followPtp(o: FollowOptions): Promise<FollowSummary> {
  const native = loadNative();
  const { interface: ifname, seconds, signal, onLine, pollIntervalMs = 5, ...slaveOptions } = o;
  const slave: NativePtpSlave = new native.PtpSlave({ interface: ifname, ...slaveOptions });
  const start = slave.now();
  const records: PtpOffsetRecord[] = [];
  let firstLock: number | null = null;
  let lastLine = start;
  let lastKey = '';
  let window: PtpOffsetRecord[] = [];
  const systemOffsets: number[] = [];
  let nextSystemSample = start;
  const stamp = (t: number) => `ptp[${((t - start) / 1e9).toFixed(3)}]`;
  try {
    for (;;) {
      slave.poll();
      const fresh = slave.records();
      for (const r of fresh) {
        records.push(r);
        window.push(r);
        if (firstLock === null && r.locked) firstLock = r.at;
      }
      const now = slave.now();
      const st = slave.status();
      if (st.locked && now >= nextSystemSample) {
        systemOffsets.push(slave.systemClockOffset());
        nextSystemSample = now + 100e6;
      }
      const key = `${st.portState}/${st.servoShort}/${st.grandmaster}`;
      if (key !== lastKey) {
        if (st.grandmaster && !lastKey.endsWith(`/${st.grandmaster}`)) onLine?.(`${stamp(now)}: selected best master clock ${st.grandmaster} (port ${st.parent?.portIdentity})`);
        onLine?.(`${stamp(now)}: port ${st.portState}, servo ${st.servoShort} (${st.servoState})`);
        lastKey = key;
      }
      if (now - lastLine >= 1e9) {
        if (window.length > 0) {
          const last = window[window.length - 1];
          const rms = Math.sqrt(window.reduce((s, r) => s + r.offsetNs * r.offsetNs, 0) / window.length);
          const max = Math.max(...window.map((r) => Math.abs(r.offsetNs)));
          onLine?.(`${stamp(now)}: master offset ${sign(last.offsetNs)} ns ${last.stateShort} freq ${sign(last.frequencyPpb)} ppb path delay ${Math.round(last.pathDelayNs)} ns  (1 s: rms ${Math.round(rms)} max ${Math.round(max)}, ${window.length} samples)`);
        } else {
          onLine?.(`${stamp(now)}: ${st.portState} ${st.servoShort}, no offset yet (${st.counters.datagrams} datagrams, grandmaster ${st.grandmaster ?? 'none'})`);
        }
        window = [];
        lastLine = now;
      }
      if (signal?.aborted) break;
      if (seconds !== undefined && now - start >= seconds * 1e9) break;
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
    const st = slave.status();
    const stats = firstLock === null ? null : lockedOffsetStats(records, firstLock);
    return {
      interface: ifname,
      clockIdentity: st.clockIdentity,
      locked: st.locked,
      grandmaster: st.grandmaster,
      lockTimeS: firstLock === null ? null : (firstLock - start) / 1e9,
      offsetRmsNs: stats ? stats.rms : null,
      offsetMaxNs: stats ? stats.max : null,
      offsetMeanNs: stats ? stats.mean : null,
      systemClockOffset: systemOffsets.length === 0 ? null : {
        rmsNs: Math.sqrt(systemOffsets.reduce((a, x) => a + x * x, 0) / systemOffsets.length),
        maxNs: Math.max(...systemOffsets.map(Math.abs)),
        meanNs: systemOffsets.reduce((a, x) => a + x, 0) / systemOffsets.length,
        samples: systemOffsets.length,
      },
      pathDelayNs: st.hasOffset ? st.pathDelayNs : null,
      frequencyPpb: st.frequencyPpb,
      samples: records.length,
      lockedSamples: stats ? stats.n : 0,
      durationS: (slave.now() - start) / 1e9,
      portState: st.portState,
      servoState: st.servoState,
      counters: st.counters,
    };
  } finally {
    slave.close();
  }
}

export function formatFollowSummary(s: FollowSummary): string {
  const f = (x: number | null, unit: string) => (x === null ? '-' : `${Math.round(x)} ${unit}`);
  return [
    `summary: ${s.locked ? 'LOCKED' : 'NOT LOCKED'} to ${s.grandmaster ?? 'no grandmaster'} on ${s.interface} (we are ${s.clockIdentity}), ${s.durationS.toFixed(1)} s`,
    `  lock time    ${s.lockTimeS === null ? 'never' : `${s.lockTimeS.toFixed(3)} s`}`,
    `  offset       rms ${f(s.offsetRmsNs, 'ns')}  max ${f(s.offsetMaxNs, 'ns')}  mean ${f(s.offsetMeanNs, 'ns')}  (${s.lockedSamples} samples while locked)`,
    `  PTP - system clock  ${s.systemClockOffset ? `rms ${f(s.systemClockOffset.rmsNs, 'ns')}  max ${f(s.systemClockOffset.maxNs, 'ns')}  mean ${f(s.systemClockOffset.meanNs, 'ns')}` : '-'}`,
    `  path delay   ${f(s.pathDelayNs, 'ns')}   frequency ${Math.round(s.frequencyPpb)} ppb`,
    `  state        ${s.portState}, servo ${s.servoState}; steps ${s.counters.steps}, lock losses ${s.counters.lockLosses}, grandmaster changes ${s.counters.grandmasterChanges}`,
    `  messages     ${Object.entries(s.counters.messages).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; PTPv1 ${s.counters.ptpv1}`,
  ].join('\n');
}
