// Every metric an `expect:` entry may name: its unit, what it means, and how the runner
// computes it. A scenario naming a metric that is not here, or bounding one with the wrong
// unit (`latency.roundTrip: { max: 8 }`: 8 what?), or one this scenario cannot measure
// (latency without a probe channel), is refused when the file is loaded, with the file,
// the line and the allowed metrics.
import type { Limit } from '../report/schema.ts';
import type { Scenario } from './schema.ts';
import { parseDuration, parsePercent, parsePpm } from './units.ts';

/**
 * duration: written with a time unit, reported in `unit` (ms or us); count: a whole
 * number; samples: a signed whole number of sample periods at the device rate; number: a
 * plain figure; ppm: parts per million; boolean: only `equals: true|false`; state: only
 * `equals:` one of `states`.
 */
export type MetricKind = 'duration' | 'count' | 'samples' | 'number' | 'ppm' | 'boolean' | 'state';

export interface MetricDefinition {
  name: string;
  kind: MetricKind;
  /** The unit of the value in report.json. */
  unit: string;
  description: string;
  /** How the runner computes it (shown by `aes67-lab metrics`). */
  how: string;
  states?: readonly string[];
  /** Why this scenario cannot measure it, or undefined. */
  needs?: (s: Scenario) => string | undefined;
}

const hasProbe = (s: Scenario) => (s.senders.some((x) => x.probe) ? undefined : 'needs a sender with probe: { channel: N } (an MLS on one channel)');
const hasSine = (s: Scenario) =>
  s.senders.some((x) => x.kind !== 'pcap' && (x.signal === undefined || (typeof x.signal === 'object' && 'sine' in x.signal)))
    ? undefined
    : 'needs a sender whose signal is a sine (the default signal is one)';
const hasDante = (s: Scenario) => (s.receivers.some((r) => r.kind === 'dante') ? undefined : 'needs a receiver of kind dante');
const hasGrandmaster = (s: Scenario) => (s.grandmasters.length > 0 ? undefined : 'needs a grandmaster');
const hasEvent = (s: Scenario) =>
  s.grandmasters.some((g) => g.events.length > 0) || s.network.active?.until !== undefined
    ? undefined
    : 'needs a grandmaster event or network.active.until: recovery is measured from the last one';

const LIST: MetricDefinition[] = [
  {
    name: 'latency.roundTrip',
    kind: 'duration',
    unit: 'ms',
    description: "round trip through the device's loopback in RTP media time: what comes back is stamped this much later than what was sent (median over probe windows)",
    how: "the MLS probe channel as sent (rendered by sample index) cross-correlated with what the lab receiver got back on the same channel (lab/measure/latency estimateDelay), one window per probe period",
    needs: hasProbe,
  },
  {
    name: 'latency.error',
    kind: 'samples',
    unit: 'samples',
    description: 'measured round trip minus the configured sum: link offset + input safety offset + 2 x IO buffer + output safety offset (Core Audio\'s sum of the properties the device reports)',
    how: 'latency.roundTrip in samples minus (device linkOffset + 2 x buffer + the safety offsets the device reports); 0 means to the sample',
    needs: hasProbe,
  },
  {
    name: 'latency.spread',
    kind: 'samples',
    unit: 'samples',
    description: 'largest minus smallest round trip over the probe windows (0: the latency never moved)',
    how: 'max - min of the per-window correlation lags',
    needs: hasProbe,
  },
  {
    name: 'latency.residual',
    kind: 'samples',
    unit: 'samples',
    description: "measured round trip minus the sum of the stages the DUT's packet and cycle stamps attribute (lab/measure/latency attributeLatency)",
    how: 'stages: packetization in (sender ptime), network in (DUT arrival stamps), playout wait (link offset - transit), input safety offset, IO buffer in, IO buffer out (cycle stamps), output safety offset (cycle stamps)',
    needs: hasProbe,
  },
  {
    name: 'latency.confidence',
    kind: 'number',
    unit: '',
    description: 'lowest correlation peak-to-largest-sidelobe ratio over the probe windows (about 2^degree for a clean MLS; below 4 is unreliable)',
    how: 'lab/measure/latency estimateDelay confidence',
    needs: hasProbe,
  },
  {
    name: 'latency.toWire',
    kind: 'duration',
    unit: 'ms',
    description: "from a sample's PTP time at the sender to the lab receiver's arrival of the packet carrying it back (worst packet)",
    how: 'latency.roundTrip + the lab receiver\'s worst arrival - media time (packetization out + network out)',
    needs: hasProbe,
  },
  {
    name: 'glitches.count',
    kind: 'count',
    unit: 'count',
    description: 'glitches heard in what came back (one analysed sine channel per returned stream; a lost packet hits every channel of it alike)',
    how: 'lab/measure/glitches detectChannelGlitches on the first sine channel of each lab receiver, over the steady part of the run',
    needs: hasSine,
  },
  {
    name: 'glitches.unexplained',
    kind: 'count',
    unit: 'count',
    description: 'glitches no logged loss, late packet or underrun explains',
    how: 'lab/measure/glitches joinGlitchCauses with the losses the impairment model logged (in and out of the device) and the packets the DUT refused (late, from its packet stamps)',
    needs: hasSine,
  },
  {
    name: 'glitches.equalsLost',
    kind: 'boolean',
    unit: '',
    description: 'the glitches heard are exactly the audio lost: every gap of lost audio is heard as a glitch at its place, and no glitch is heard anywhere else (none where nothing was lost)',
    how: "gaps = media ranges the DUT never placed in its playout buffer (network loss on the way in, found in the impairment hook's log, or late), mapped through the round trip and the channel map, and ranges the network dropped on the way out; true when every gap overlaps a detected glitch, every glitch overlaps a gap, no gap is one the network did not cause (neither dropped nor refused as late), and the DUT counted lost exactly the packets the network dropped on their way to it (gaps within the detector's envelope window may share one glitch)",
    needs: hasSine,
  },
  {
    name: 'audio.mismatched',
    kind: 'count',
    unit: 'samples',
    description: 'returned samples that differ from what was sent, delayed by the round trip, outside the gaps of lost audio (0: bit-exact through the device)',
    how: "each returned channel compared sample by sample with its sender's signal rendered at (media time - round trip) and quantized by the sender's encoding (a pcap sender: the audio its replay sent, by media time)",
  },
  { name: 'rtp.device.lost', kind: 'count', unit: 'count', description: 'packets the device counted lost (sequence gaps), all receive streams', how: 'EmulatedDut counters receivers[].lost' },
  { name: 'rtp.device.late', kind: 'count', unit: 'count', description: 'packets that reached the device after their playout time', how: 'EmulatedDut counters receivers[].playout.latePackets' },
  { name: 'rtp.device.duplicates', kind: 'count', unit: 'count', description: 'duplicate packets the device dropped', how: "EmulatedDut counters receivers[].dropped.duplicate (the RTP receiver's sequence check) + playout.duplicatePackets" },
  { name: 'rtp.device.reordered', kind: 'count', unit: 'count', description: 'packets the device received out of order', how: 'EmulatedDut counters receivers[].reordered' },
  { name: 'rtp.lab.lost', kind: 'count', unit: 'count', description: "packets of the device's streams the lab receivers counted lost", how: 'Aes67Receiver metrics lost, summed' },
  { name: 'rtp.lab.late', kind: 'count', unit: 'count', description: "packets of the device's streams later than a lab receiver's playout window (dante receivers: 2 ms)", how: 'Aes67Receiver / DanteAes67Receiver metrics late, summed' },
  { name: 'rtp.lab.duplicates', kind: 'count', unit: 'count', description: 'duplicates the lab receivers saw', how: 'Aes67Receiver metrics duplicates, summed' },
  { name: 'rtp.lab.reordered', kind: 'count', unit: 'count', description: 'out-of-order packets the lab receivers saw', how: 'Aes67Receiver metrics reordered, summed' },
  { name: 'network.lost', kind: 'count', unit: 'count', description: 'audio packets the impairment model dropped (in and out of the device)', how: 'the impairment hook: RTP datagrams the model returned no copy for' },
  { name: 'network.delayMax', kind: 'duration', unit: 'ms', description: 'largest extra delay the impairment model gave an audio packet', how: 'the impairment hook, over delivered RTP datagrams' },
  {
    name: 'playout.fillMin',
    kind: 'samples',
    unit: 'samples',
    description: "lowest playout-buffer fill of any receive stream after start-up (frames ahead of the device's read position)",
    how: 'EmulatedDut counters receivers[].playout.fillFrames, sampled every 50 ms of virtual time from 200 ms after the device started (a sample, not the instantaneous extreme)',
  },
  { name: 'playout.fillMax', kind: 'samples', unit: 'samples', description: 'highest playout-buffer fill of any receive stream after start-up', how: 'as playout.fillMin' },
  {
    name: 'playout.driftPpm',
    kind: 'ppm',
    unit: 'ppm',
    description: "how fast the senders' media clocks run against the device's, from the arrival times of their packets (largest magnitude over streams)",
    how: "least-squares slope of (arrival - device media clock time of the packet's media time) over arrival time, from the DUT's packet stamps",
  },
  { name: 'discovery.time', kind: 'duration', unit: 'ms', description: 'from the start until the device had the SDP of every sender (SAP, mDNS + RTSP, or pasted)', how: 'virtual time when the last sender\'s SDP was found' },
  { name: 'tx.pitMax', kind: 'duration', unit: 'us', description: "largest packet interval of the device's transmit streams on the wire", how: "lab/analyze analyzeCapture on a pcapng of the device's transmit packets (lab/net/pcap/pcapng-writer) at their send time" },
  { name: 'tx.tsdf', kind: 'duration', unit: 'us', description: "largest TS-DF (timestamped delay factor) of the device's transmit streams", how: 'as tx.pitMax, the analysis tsdfUs.max' },
  {
    name: 'dante.status',
    kind: 'state',
    unit: '',
    states: ['subscribed', 'no-audio', 'unresolved', 'prohibited'],
    description: "the worst Dante Controller state of the dante receivers subscribed to the device's streams",
    how: 'DanteAes67Receiver status().state',
    needs: hasDante,
  },
  { name: 'dante.worstMargin', kind: 'duration', unit: 'ms', description: 'smallest margin before the 2 ms Dante window of any packet (negative: late)', how: 'DanteAes67Receiver status().worstMarginNs', needs: hasDante },
  {
    name: 'recovery.time',
    kind: 'duration',
    unit: 'ms',
    description: 'from the last grandmaster event or the end of the impairment window to the end of the last glitch it caused (0: nothing to recover from)',
    how: 'glitch marks after the event; the next event starts a new window',
    needs: (s) => hasEvent(s) ?? hasSine(s),
  },
  {
    name: 'ptp.lockTime',
    kind: 'duration',
    unit: 'ms',
    description: "from the start until the device's PTP slave first locked",
    how: "EmulatedDut ptpStatus().firstLockAt (the device's own slave), on the same impaired virtual network as the audio",
    needs: hasGrandmaster,
  },
  {
    name: 'ptp.offsetRms',
    kind: 'duration',
    unit: 'ns',
    description: "rms of the device PTP slave's true error while locked: its PTP time minus the followed grandmaster's true PTP time (exact in virtual time)",
    how: 'EmulatedDut ptpTimeAt(now) - the grandmaster timescale ptpTimeAt(now), sampled every 10 ms of virtual time',
    needs: hasGrandmaster,
  },
  { name: 'ptp.offsetMax', kind: 'duration', unit: 'ns', description: "largest |true error| of the device's PTP slave while locked", how: 'as ptp.offsetRms', needs: hasGrandmaster },
  {
    name: 'ptp.recovery',
    kind: 'duration',
    unit: 'ms',
    description: "from the last grandmaster event until the device's PTP slave is locked and within 1 us of the followed grandmaster's true time for the rest of the run",
    how: 'the 10 ms samples of ptp.offsetRms after the event',
    needs: (s) => (s.grandmasters.some((g) => g.events.length > 0) ? undefined : 'needs a grandmaster event'),
  },
  { name: 'ptp.steps', kind: 'count', unit: 'count', description: "times the device's PTP slave stepped its clock (the first lock's step included)", how: 'EmulatedDut ptpStatus().counters.steps', needs: hasGrandmaster },
  { name: 'ptp.grandmasterChanges', kind: 'count', unit: 'count', description: "times the device's PTP slave changed grandmaster (BMCA failover)", how: 'EmulatedDut ptpStatus().counters.grandmasterChanges', needs: hasGrandmaster },
  {
    name: 'ptp.falseLock',
    kind: 'duration',
    unit: 'ms',
    description: "longest stretch the device reported PTP lock while it was not: its true error beyond 10 us (half a sample at 48 kHz) or no new Sync sample for 1 s (0: never)",
    how: "EmulatedDut ptpStatus().locked and counters.syncSamples, against ptpTimeAt(now) - the followed grandmaster's true PTP time, sampled every 10 ms of virtual time",
    needs: hasGrandmaster,
  },
  {
    name: 'ptp.lockedWithoutSync',
    kind: 'duration',
    unit: 'ms',
    description: "longest time the device went on reporting PTP lock after its last new Sync sample (a grandmaster that stopped Follow_Up or Sync)",
    how: 'EmulatedDut ptpStatus().locked and counters.syncSamples, sampled every 10 ms of virtual time',
    needs: hasGrandmaster,
  },
  {
    name: 'sap.refclkLag',
    kind: 'duration',
    unit: 'ms',
    description: "from the device following a grandmaster (its PTP slave's choice) to a SAP announcement of every TX stream naming it in ts-refclk (worst over the grandmasters it followed)",
    how: "a lab SapListener hears the device's announcements; ts-refclk read from each, sampled every 10 ms against EmulatedDut ptpStatus().grandmasterSince",
    needs: hasGrandmaster,
  },
  {
    name: 'sdp.refclkCurrent',
    kind: 'boolean',
    unit: '',
    description: "at the end, every TX SDP the device writes names the grandmaster it follows",
    how: 'EmulatedDut txSdp() against ptpStatus().followedGrandmaster',
    needs: hasGrandmaster,
  },
  { name: 'rtp.device.ssrcChanges', kind: 'count', unit: 'count', description: 'times a receive stream of the device took a new SSRC (a sender rebooted)', how: 'EmulatedDut counters receivers[].ssrcChanges, summed' },
  {
    name: 'sender.resumeTime',
    kind: 'duration',
    unit: 'ms',
    description: "from a sender's restart (back from a reboot, or its session changed) to the end of the gap it left in the audio that came back, on the sender's time line (worst event)",
    how: 'glitch marks of the returned sine mapped back by the configured round trip, against the sender event times',
    needs: (s) => (s.senders.some((x) => x.events.length > 0) ? hasSine(s) : 'needs a sender with events'),
  },
  { name: 'rx.framesPerPacketWrong', kind: 'count', unit: 'count', description: "receive streams whose packet size the device read from the SDP differently from what the sender sends", how: "the engine's SDP reader (describeSdp) on the SDP the device subscribed to, against the sender's frames per packet" },
  { name: 'rx.channelsWrong', kind: 'count', unit: 'count', description: 'receive streams whose channel count the device read differently from what the sender sends', how: 'as rx.framesPerPacketWrong, channels' },
  { name: 'sdp.rxLintWarnings', kind: 'count', unit: 'count', description: "warnings the engine's SDP lint gives on the SDPs pasted into the device (aes67 senders)", how: 'native lintSdp, severity warning or error' },
  // The impairments' own record (lab/impair/loss-ledger.ts, judged by lab/scenario/expect-lost.ts).
  {
    name: 'glitches.expected',
    kind: 'count',
    unit: 'count',
    description: 'glitches the audio actually lost must cause: stretches of lost audio (merged where a listener hears one glitch) in the analysed part of what came back',
    how: "from the network tap's LossLedger alone: packets the impairment dropped, media the wire never carried, packets that arrived after the device's IO cycle read their first frame (the configured link offset, input safety offset and IO buffer), mapped through the round trip",
    needs: hasSine,
  },
  {
    name: 'glitches.equalsLedger',
    kind: 'boolean',
    unit: '',
    description: 'the glitches heard are exactly the ones the ledger expects: as many, each at a stretch of lost audio, none elsewhere, and no packet arrived inside the read window where the answer depends on the IO cycles\' phase',
    how: 'lab/measure/glitches detectChannelGlitches on the first sine channel of each returned stream, paired with glitches.expected\'s stretches (4 samples tolerance)',
    needs: hasSine,
  },
  { name: 'glitches.heard', kind: 'count', unit: 'count', description: 'glitches heard in the part of the returned audio the ledger judges (which, unlike glitches.count, runs to the wire\'s last packet wherever the device refused packets)', how: 'as glitches.equalsLedger', needs: hasSine },
  {
    name: 'recovery.afterEvent',
    kind: 'duration',
    unit: 'ms',
    description: 'from the last grandmaster event or the end of network.active to the end of the last glitch heard after it, over the audio the ledger judges (0: nothing to recover from)',
    how: 'as glitches.equalsLedger, glitch ends mapped back through the round trip to scenario time',
    needs: (s) => hasEvent(s) ?? hasSine(s),
  },
  { name: 'ledger.undecidable', kind: 'count', unit: 'count', description: "packets into the device that arrived inside the IO cycle's read window of their first frame (played or not depending on the cycles' phase)", how: 'LossLedger arrival vs the local time of media m + input safety + link offset + [1, IO buffer]' },
  { name: 'ledger.lost', kind: 'count', unit: 'count', description: 'audio packets the impairment dropped, in and out of the device, by its own record', how: 'LossLedger packets with no copy' },
  { name: 'ledger.late', kind: 'count', unit: 'count', description: 'audio packets into the device the impairment delayed past their read time (audio lost although delivered)', how: 'LossLedger arrival (send time + base delay + extra delay) after the latest read time of the first frame' },
  { name: 'ledger.unsentFrames', kind: 'count', unit: 'frames', description: 'media frames the wire never carried (a sender paused, rebooted or stepped its timestamps forward)', how: 'LossLedger: RTP timestamp steps of more than one packet between consecutive datagrams of a stream' },
  { name: 'ledger.ssrcChanges', kind: 'count', unit: 'count', description: "SSRCs beyond the first on the device's receive streams, as seen on the wire", how: 'LossLedger distinct SSRCs per stream - 1, summed' },
  { name: 'ledger.sequenceWraps', kind: 'count', unit: 'count', description: 'RTP sequence number wraps (65535 -> 0) on the wire into the device', how: 'LossLedger, consecutive datagrams of one SSRC' },
  { name: 'ledger.timestampWraps', kind: 'count', unit: 'count', description: 'RTP timestamp wraps (2^32 - 1 -> 0) on the wire into the device', how: 'LossLedger, consecutive datagrams' },
  {
    name: 'recovery.afterLoss',
    kind: 'duration',
    unit: 'ms',
    description: 'longest time from the end of a stretch of lost audio to the end of the glitch heard there (how long after the loss the output is clean again)',
    how: 'glitches.equalsLedger\'s pairs: glitch end - lost stretch end, at the device rate',
    needs: hasSine,
  },
];

export const METRICS: ReadonlyMap<string, MetricDefinition> = new Map(LIST.map((m) => [m.name, m]));

export function metricNames(): string[] {
  return [...METRICS.keys()];
}

const DURATION_PER_UNIT: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/** A bound as written, in the metric's report unit; throws a message saying what to write. */
export function parseBound(m: MetricDefinition, v: string | number | boolean, which: 'min' | 'max' | 'equals'): number | string | boolean {
  switch (m.kind) {
    case 'boolean':
      if (which !== 'equals' || typeof v !== 'boolean') throw new Error(`${m.name} is true or false: write equals: true (or false)`);
      return v;
    case 'state':
      if (which !== 'equals' || typeof v !== 'string' || !m.states!.includes(v)) throw new Error(`${m.name} is a state: write equals: one of ${m.states!.join(', ')}`);
      return v;
    case 'duration': {
      if (typeof v === 'boolean') throw new Error(`${m.name} is a duration: write e.g. 8ms`);
      if (typeof v === 'number' && v !== 0) throw new Error(`${m.name} is a duration: ${v} has no unit, write e.g. ${v}${m.unit}`);
      return parseDuration(v) / DURATION_PER_UNIT[m.unit];
    }
    case 'ppm':
      if (typeof v === 'boolean') throw new Error(`${m.name} is in ppm: write e.g. 100ppm`);
      return parsePpm(v);
    case 'count':
    case 'samples': {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${m.name} is ${m.kind === 'count' ? 'a count' : 'a whole number of samples'}: write a plain integer like 0, not '${String(v)}'`);
      if (m.kind === 'count' && v < 0) throw new Error(`${m.name} counts: it is never below 0`);
      return v;
    }
    case 'number':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && /%\s*$/.test(v)) return parsePercent(v);
      throw new Error(`${m.name} is a plain number: write e.g. 100`);
  }
}

export interface ExpectationProblem {
  path: (string | number)[];
  message: string;
}

/** Problems with one `expect:` entry of scenario `s` (empty when it is fine). */
export function checkExpectation(name: string, e: { min?: unknown; max?: unknown; equals?: unknown }, s: Scenario): ExpectationProblem[] {
  const m = METRICS.get(name);
  if (!m) return [{ path: [], message: `unknown metric '${name}'; allowed: ${metricNames().join(', ')}` }];
  const problems: ExpectationProblem[] = [];
  const parsed: Record<string, number | string | boolean> = {};
  for (const which of ['min', 'max', 'equals'] as const) {
    const v = e[which];
    if (v === undefined) continue;
    try {
      parsed[which] = parseBound(m, v as string | number | boolean, which);
    } catch (err) {
      problems.push({ path: [which], message: (err as Error).message });
    }
  }
  if (problems.length === 0 && parsed.equals !== undefined && (parsed.min !== undefined || parsed.max !== undefined)) {
    problems.push({ path: ['equals'], message: 'give equals alone, or min and/or max' });
  }
  if (problems.length === 0 && typeof parsed.min === 'number' && typeof parsed.max === 'number' && parsed.min > parsed.max) {
    problems.push({ path: ['min'], message: `min ${String(e.min)} is above max ${String(e.max)}` });
  }
  const why = m.needs?.(s);
  if (why) problems.push({ path: [], message: `${name} ${why}` });
  return problems;
}

/** The report limit of an expectation (bounds in the metric's report unit). */
export function limitOf(name: string, e: { min?: string | number | boolean; max?: string | number | boolean; equals?: string | number | boolean }): Limit {
  const m = METRICS.get(name);
  if (!m) throw new Error(`unknown metric '${name}'`);
  const limit: Limit = {};
  if (e.min !== undefined) limit.min = parseBound(m, e.min, 'min') as number;
  if (e.max !== undefined) limit.max = parseBound(m, e.max, 'max') as number;
  if (e.equals !== undefined) limit.equals = parseBound(m, e.equals, 'equals');
  return limit;
}
