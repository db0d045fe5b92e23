// The DUT's PTP clock as the HIL runner reports it, kept apart from the runner's own timing.
// The runner's wall figure (its start, or its grandmaster's, to the first GET /status that
// says "locked", polled every LOCK_POLL_MS) holds the runner's set-up and polling; what
// judges the DUT is what the DUT's status says of itself (driver/host/software_dut.cpp):
// - ptp.lastAcquisitionS: the latest lock's acquisition, from the first Sync sample of its
//   grandmaster its slave took while unlocked until it locked (ptp.lockTime judges it);
// - ptp.lockTimeS: its first lock, from its PTP slave's start (the DUT's start), which
//   also counts any time it waited with no grandmaster on the network (a figure);
// - ptp.counters: lock losses, steps, ... whose change over the measured span is judged.
import type { DutPtpStatusJson } from '../dut/dut-client.ts';

/** How often the runner asks the DUT whether it is locked while it waits for lock. */
export const LOCK_POLL_MS = 200;

/** The DUT's counters whose change over the measured span the report gives (ptp.span.<name>). */
export const SPAN_COUNTERS = ['lockLosses', 'steps', 'locks', 'grandmasterChanges', 'spikes', 'sampleTimeouts', 'announceTimeouts'] as const;
export type SpanCounter = (typeof SPAN_COUNTERS)[number];

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** The lock the runner waited for, as the DUT tells it (all times the DUT's own). */
export interface DutLock {
  /** The latest lock's acquisition in ms (ptp.lastAcquisitionS), or why there is none. */
  acquisitionMs: number | { missing: string };
  /** First lock since the DUT's PTP slave started, ms (ptp.lockTimeS); undefined when not reported. */
  firstLockMs?: number;
  /**
   * The DUT locked while the runner waited (its lock count rose since the run's first
   * status); false: it was locked to this grandmaster before the run began, so the
   * acquisition it reports is of a lock no part of this run saw.
   */
  lockedDuringRun: boolean;
  /** Its locks and lock losses between the run's first status and the first locked one. */
  locksWhileWaiting: number;
  lockLossesWhileWaiting: number;
}

const counter = (p: DutPtpStatusJson, k: string): number | undefined => {
  const v = p.counters?.[k];
  return typeof v === 'number' ? v : undefined;
};

/**
 * What the DUT says of its lock: `atRunStart` its status when the runner started, `atLock`
 * the first status that said locked. Throws when `atLock` is not locked (the caller waits).
 */
export function dutLockOf(atRunStart: DutPtpStatusJson, atLock: DutPtpStatusJson): DutLock {
  if (!atLock.locked) throw new Error('dutLockOf: the status given as the locked one does not say locked');
  const locks0 = counter(atRunStart, 'locks') ?? 0;
  const locks1 = counter(atLock, 'locks');
  const lossesWaiting = (counter(atLock, 'lockLosses') ?? 0) - (counter(atRunStart, 'lockLosses') ?? 0);
  const acquisitionMs: DutLock['acquisitionMs'] =
    typeof atLock.lastAcquisitionS === 'number'
      ? round(atLock.lastAcquisitionS * 1000)
      : { missing: "the DUT's status has no ptp.lastAcquisitionS (the latest lock's acquisition: from its grandmaster's first Sync sample while unlocked until locked), so its own lock time is unknown; the runner's wall figure (ptp.lockSeen*) is not the DUT's" };
  return {
    acquisitionMs,
    ...(typeof atLock.lockTimeS === 'number' ? { firstLockMs: round(atLock.lockTimeS * 1000) } : {}),
    // A DUT without a lock counter: locked now and not at the start means it locked meanwhile.
    lockedDuringRun: locks1 !== undefined ? locks1 > locks0 : !atRunStart.locked,
    locksWhileWaiting: locks1 !== undefined ? locks1 - locks0 : Number(!atRunStart.locked),
    lockLossesWhileWaiting: lossesWaiting,
  };
}

/** The change of each of the DUT's PTP counters from `from` to `to` (a span of the run). */
export interface SpanDeltas {
  deltas: Partial<Record<SpanCounter, number>>;
  /** Why a counter has no delta (not reported, or it went back: the DUT restarted). */
  missing: Partial<Record<SpanCounter, string>>;
}

export function ptpCounterDeltas(from: DutPtpStatusJson, to: DutPtpStatusJson): SpanDeltas {
  const out: SpanDeltas = { deltas: {}, missing: {} };
  for (const k of SPAN_COUNTERS) {
    const a = counter(from, k);
    const b = counter(to, k);
    if (a === undefined || b === undefined) out.missing[k] = `the DUT's status has no ptp.counters.${k}${from.enabled === false || to.enabled === false ? ' (its PTP is disabled)' : ''}`;
    else if (b < a) out.missing[k] = `the DUT's ptp.counters.${k} went from ${a} to ${b} over the measured span: the DUT restarted (or reset its counters), so what happened in between is unknown`;
    else out.deltas[k] = b - a;
  }
  return out;
}
