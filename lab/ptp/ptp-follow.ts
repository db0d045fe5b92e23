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
  /** Stop this many seconds after the first lock (to `lockGrandmaster` when given), rather than run on. */
  stopAfterLockS?: number;
  /** The grandmaster (xxxxxx.xxxx.xxxxxx) whose lock `stopAfterLockS` waits for; default any. */
  lockGrandmaster?: string;
  /** Keep every offset record in the summary (`records`), e.g. to study a slow lock. */
  keepRecords?: boolean;
}

/** One offset record as the summary keeps it (keepRecords): CLOCK_MONOTONIC seconds, the grandmaster then followed. */
export interface FollowRecord {
  atS: number;
  offsetNs: number;
  pathDelayNs: number;
  frequencyPpb: number;
  stateShort: PtpOffsetRecord['stateShort'];
  grandmaster: string | null;
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
  /**
   * PTP time minus CLOCK_REALTIME (as systemClockOffset) read in the poll that saw the lock
   * `stopAfterLockS` waits for (the first lock, or the first to `lockGrandmaster`), i.e. at
   * most a poll interval after the locking sample was applied; and the largest |value| of
   * the 100 ms samples in the second after it. Against a grandmaster on this host's clock
   * (ptp4l, ARB timescale) this is the true error when lock was declared: the figure that
   * tells a false lock from a true one. Raw: a PTP-timescale master adds its 37 s.
   */
  errorAtLock: { atLockNs: number; maxFirstSecondNs: number; samples: number } | null;
  pathDelayNs: number | null;
  frequencyPpb: number;
  /** The servo's measured stamp noise and the gain scale it gave, at the end (absent from an addon without them). */
  measurementNoiseNs?: number;
  gainScale?: number;
  samples: number;
  lockedSamples: number;
  durationS: number;
  portState: PtpSlaveStatus['portState'];
  servoState: PtpSlaveStatus['servoState'];
  counters: PtpSlaveStatus['counters'];
  /** CLOCK_MONOTONIC seconds the run started (ptp4l's and the emulator's log stamps are on the same clock). */
  startedAtS: number;
  /** Every change of port state, servo state or grandmaster, in order (at most MAX_CHANGES kept). */
  changes: FollowChange[];
  /** Offsets and true error while locked, by the grandmaster followed at the time. */
  byGrandmaster: GrandmasterStats[];
  /** Every offset record, when asked for (keepRecords; at most MAX_RECORDS kept). */
  records?: FollowRecord[];
}

export interface FollowChange {
  /** CLOCK_MONOTONIC seconds (when the poll saw it; polls are pollIntervalMs apart). */
  atS: number;
  portState: PtpSlaveStatus['portState'];
  servoShort: PtpSlaveStatus['servoShort'];
  locked: boolean;
  grandmaster: string | null;
  /** The slave's own counters at that moment. */
  grandmasterChanges: number;
  parentChanges: number;
  announceTimeouts: number;
  lockLosses: number;
}

export interface GrandmasterStats {
  grandmaster: string;
  lockedSamples: number;
  offsetRmsNs: number | null;
  offsetMaxNs: number | null;
  /**
   * PTP time minus CLOCK_REALTIME while locked to it (see systemClockOffset), split into the
   * whole seconds of the grandmaster's timescale (37 for a PTP-timescale master on this host's
   * clock: TAI = UTC + 37 s; 0 for ptp4l with software time stamps, which sends the system
   * clock's UTC on an ARB timescale) and the error around them.
   */
  systemClockOffset: { wholeSeconds: number; rmsNs: number; maxNs: number; meanNs: number; samples: number } | null;
}

const MAX_CHANGES = 1000;
const MAX_RECORDS = 100_000;

function rmsMaxMean(xs: number[]): { rmsNs: number; maxNs: number; meanNs: number; samples: number } | null {
  if (xs.length === 0) return null;
  return {
    rmsNs: Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length),
    maxNs: Math.max(...xs.map(Math.abs)),
    meanNs: xs.reduce((a, x) => a + x, 0) / xs.length,
    samples: xs.length,
  };
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
  const { interface: ifname, seconds, signal, onLine, pollIntervalMs = 5, stopAfterLockS, lockGrandmaster, keepRecords, ...slaveOptions } = o;
  const slave: NativePtpSlave = new native.PtpSlave({ interface: ifname, ...slaveOptions });
  const start = slave.now();
  const records: PtpOffsetRecord[] = [];
  let firstLock: number | null = null;
  // When the lock stopAfterLockS waits for came (local ns).
  let awaitedLock: number | null = null;
  const kept: FollowRecord[] = [];
  let lastLine = start;
  let lastKey = '';
  let window: PtpOffsetRecord[] = [];
  const systemOffsets: number[] = [];
  let nextSystemSample = start;
  // The true error at the awaited lock and in the second after it.
  let errorAtLock: FollowSummary['errorAtLock'] = null;
  const changes: FollowChange[] = [];
  // Per grandmaster: offsets of locked records and true-error samples.
  const perGm = new Map<string, { offsets: number[]; system: number[] }>();
  const gmBucket = (id: string) => {
    let b = perGm.get(id);
    if (!b) perGm.set(id, (b = { offsets: [], system: [] }));
    return b;
  };
  let gmBefore: string | null = null;
  const stamp = (t: number) => `ptp[${((t - start) / 1e9).toFixed(3)}]`;
  try {
    for (;;) {
      slave.poll();
      const fresh = slave.records();
      const now = slave.now();
      const st = slave.status();
      // Records of a poll in which the grandmaster changed are not attributed to either.
      const gmOfRecords = st.grandmaster !== null && st.grandmaster === gmBefore ? gmBucket(st.grandmaster) : undefined;
      gmBefore = st.grandmaster;
      for (const r of fresh) {
        records.push(r);
        window.push(r);
        if (firstLock === null && r.locked) firstLock = r.at;
        if (r.locked) gmOfRecords?.offsets.push(r.offsetNs);
        if (awaitedLock === null && r.locked && (lockGrandmaster === undefined || st.grandmaster === lockGrandmaster)) awaitedLock = r.at;
        if (keepRecords && kept.length < MAX_RECORDS) {
          kept.push({ atS: r.at / 1e9, offsetNs: r.offsetNs, pathDelayNs: r.pathDelayNs, frequencyPpb: r.frequencyPpb, stateShort: r.stateShort, grandmaster: st.grandmaster });
        }
      }
      if (awaitedLock !== null && errorAtLock === null) {
        const e = slave.systemClockOffset();
        errorAtLock = { atLockNs: e, maxFirstSecondNs: Math.abs(e), samples: 1 };
      }
      if (st.locked && now >= nextSystemSample) {
        const e = slave.systemClockOffset();
        if (errorAtLock && awaitedLock !== null && now - awaitedLock <= 1e9) {
          errorAtLock.maxFirstSecondNs = Math.max(errorAtLock.maxFirstSecondNs, Math.abs(e));
          errorAtLock.samples++;
        }
        systemOffsets.push(e);
        if (st.grandmaster) gmBucket(st.grandmaster).system.push(e);
        nextSystemSample = now + 100e6;
      }
      const key = `${st.portState}/${st.servoShort}/${st.grandmaster}`;
      if (key !== lastKey) {
        if (changes.length < MAX_CHANGES) {
          changes.push({
            atS: now / 1e9,
            portState: st.portState,
            servoShort: st.servoShort,
            locked: st.locked,
            grandmaster: st.grandmaster,
            grandmasterChanges: st.counters.grandmasterChanges,
            parentChanges: st.counters.parentChanges,
            announceTimeouts: st.counters.announceTimeouts,
            lockLosses: st.counters.lockLosses,
          });
        }
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
      if (stopAfterLockS !== undefined && awaitedLock !== null && now - awaitedLock >= stopAfterLockS * 1e9) break;
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
      systemClockOffset: rmsMaxMean(systemOffsets),
      errorAtLock,
      pathDelayNs: st.hasOffset ? st.pathDelayNs : null,
      frequencyPpb: st.frequencyPpb,
      measurementNoiseNs: st.measurementNoiseNs,
      gainScale: st.gainScale,
      samples: records.length,
      lockedSamples: stats ? stats.n : 0,
      durationS: (slave.now() - start) / 1e9,
      portState: st.portState,
      servoState: st.servoState,
      counters: st.counters,
      startedAtS: start / 1e9,
      changes,
      byGrandmaster: [...perGm].map(([grandmaster, b]) => {
        const o = rmsMaxMean(b.offsets);
        const sorted = [...b.system].sort((x, y) => x - y);
        const wholeSeconds = sorted.length ? Math.round(sorted[sorted.length >> 1] / 1e9) : 0;
        const e = rmsMaxMean(b.system.map((x) => x - wholeSeconds * 1e9));
        return { grandmaster, lockedSamples: b.offsets.length, offsetRmsNs: o?.rmsNs ?? null, offsetMaxNs: o?.maxNs ?? null, systemClockOffset: e && { wholeSeconds, ...e } };
      }),
      ...(keepRecords ? { records: kept } : {}),
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
