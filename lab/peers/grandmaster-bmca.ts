// IEEE 1588-2008 §9.3.4 data set comparison, as a grandmaster uses it to decide whether a
// foreign master it hears is better than itself (then it stops being master, §9.3.3).
import type { AnnounceMessage, PortIdentity } from '../net/ptp.ts';

export interface ClockDataset {
  priority1: number;
  clockClass: number;
  clockAccuracy: number;
  offsetScaledLogVariance: number;
  priority2: number;
  grandmasterIdentity: string;
  stepsRemoved: number;
  /** The port the Announce came from (our own for our data set). */
  sender: PortIdentity;
}

export function datasetOf(a: AnnounceMessage): ClockDataset {
  return {
    priority1: a.grandmasterPriority1,
    clockClass: a.grandmasterClockQuality.clockClass,
    clockAccuracy: a.grandmasterClockQuality.clockAccuracy,
    offsetScaledLogVariance: a.grandmasterClockQuality.offsetScaledLogVariance,
    priority2: a.grandmasterPriority2,
    grandmasterIdentity: a.grandmasterIdentity,
    stepsRemoved: a.stepsRemoved,
    sender: a.sourcePortIdentity,
  };
}

/** A grandmaster's own data set, as its Announce states it (stepsRemoved 0). */
export function ownDataset(
  c: { priority1: number; clockClass: number; clockAccuracy: number; offsetScaledLogVariance: number; priority2: number },
  port: PortIdentity,
): ClockDataset {
  return {
    priority1: c.priority1,
    clockClass: c.clockClass,
    clockAccuracy: c.clockAccuracy,
    offsetScaledLogVariance: c.offsetScaledLogVariance,
    priority2: c.priority2,
    grandmasterIdentity: port.clockIdentity,
    stepsRemoved: 0,
    sender: port,
  };
}

const cmp = (x: number | string, y: number | string) => (x < y ? -1 : x > y ? 1 : 0);

function portKey(p: PortIdentity): string {
  return `${p.clockIdentity}${p.portNumber.toString(16).padStart(4, '0')}`;
}

/**
 * Negative when `a` is better, positive when `b` is, 0 when they are the same clock seen
 * the same way. Lower is better for every field; identities compare as unsigned numbers
 * (equal-length lower-case hex compares the same as a string).
 */
export function compareDatasets(a: ClockDataset, b: ClockDataset): number {
  if (a.grandmasterIdentity !== b.grandmasterIdentity) {
    return (
      cmp(a.priority1, b.priority1) ||
      cmp(a.clockClass, b.clockClass) ||
      cmp(a.clockAccuracy, b.clockAccuracy) ||
      cmp(a.offsetScaledLogVariance, b.offsetScaledLogVariance) ||
      cmp(a.priority2, b.priority2) ||
      cmp(a.grandmasterIdentity, b.grandmasterIdentity)
    );
  }
  // The same grandmaster over two paths (Figure 28): the shorter path, then the lower sender.
  return cmp(a.stepsRemoved, b.stepsRemoved) || cmp(portKey(a.sender), portKey(b.sender));
}
