// The DUT's PTP clock in a real-time (HIL) run, gathered from the figures the runner writes
// (lab/hil/real-time-run.ts, lab/hil/ptp-lock.ts): the DUT's own times and counters first,
// the runner's wall time apart, so a reader does not take the runner's set-up for the DUT's lock.
import type { ScenarioResult } from './schema.ts';

export interface PtpClockRow {
  label: string;
  figure: string;
  value: number | string | boolean;
  unit: string;
}

const ROWS: { figure: string; label: string; unit: string }[] = [
  { figure: 'ptp.dut.lastAcquisitionMs', label: "DUT's lock acquisition, from its grandmaster's first Sync sample while unlocked (its status; ptp.lockTime judges it)", unit: 'ms' },
  { figure: 'ptp.dut.firstLockMs', label: "DUT's first lock, from its PTP slave's start (time with no grandmaster included)", unit: 'ms' },
  { figure: 'ptp.dut.lockedDuringRun', label: 'the DUT locked during this run (false: it was locked before the runner started)', unit: '' },
  { figure: 'ptp.lockSeenFromGrandmasterStartMs', label: "runner: from its grandmaster's start to the first poll that saw the lock", unit: 'ms' },
  { figure: 'ptp.lockSeenFromRunnerStartMs', label: "runner: from its own start to the first poll that saw the lock (its set-up included)", unit: 'ms' },
  { figure: 'ptp.span.lockLosses', label: 'lock losses while measuring', unit: '' },
  { figure: 'ptp.span.steps', label: 'clock steps while measuring', unit: '' },
  { figure: 'ptp.span.lastStepNs', label: 'the last step while measuring', unit: 'ns' },
  { figure: 'ptp.span.grandmasterChanges', label: 'grandmaster changes while measuring', unit: '' },
  { figure: 'ptp.span.spikes', label: 'servo spikes (outlier samples) while measuring', unit: '' },
  { figure: 'ptp.span.sampleTimeouts', label: 'servo sample timeouts while measuring', unit: '' },
  { figure: 'ptp.span.announceTimeouts', label: 'Announce timeouts while measuring', unit: '' },
  { figure: 'ptp.dut.lockedForS', label: 'locked at the end, for', unit: 's' },
];

/** The rows present in `s`'s figures, in reading order; none for a run without them (virtual time). */
export function ptpClockRows(s: Pick<ScenarioResult, 'figures'>): PtpClockRow[] {
  return ROWS.flatMap((r) => {
    const v = s.figures[r.figure];
    return v === undefined || v === null ? [] : [{ label: r.label, figure: r.figure, value: v, unit: r.unit }];
  });
}
