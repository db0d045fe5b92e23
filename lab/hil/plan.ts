// What a scenario becomes on a real rig: which of its parts can run in real time (anything
// that only makes sense in virtual time is refused, naming the key and why), where each
// sender lands on the DUT's inputs, which outputs each DUT transmit stream carries, and so
// which sender channel the lab expects back on every returned channel — through the rig's
// loopback map, which the runner then checks by what comes back.
import type { Scenario, SenderSpec } from '../scenario/schema.ts';
import { loopbackInput, loopbackOutput, type Rig } from './rig.ts';

/** A scenario that cannot run on the rig: every reason, each naming its key. */
export class HilRefusal extends Error {
  constructor(
    readonly file: string,
    readonly reasons: string[],
  ) {
    super(`${file}: cannot run in real time on the rig:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
    this.name = 'HilRefusal';
  }
}

/** The metrics the real-time runner measures, and how (the rest are refused with a reason). */
export const REAL_TIME_METRICS: ReadonlyMap<string, string> = new Map([
  ['glitches.count', "lab/measure/glitches on the first sine channel of every returned stream, over the whole run in windows (a worker thread, so the senders' event loop never waits)"],
  ['audio.mismatched', 'every returned channel compared sample by sample with its sender channel (through the rig loopback map) delayed by the round trip the probe measured in that window'],
  ['latency.roundTrip', 'the MLS probe cross-correlated with what came back on the channel the loopback map says carries it (median over windows)'],
  ['latency.spread', 'max - min of the per-window round trips'],
  ['latency.confidence', 'lowest correlation peak-to-sidelobe ratio over the windows'],
  ['rtp.lab.lost', "the lab receivers' sequence-gap count over the DUT's streams"],
  ['rtp.lab.late', "the lab receivers' late count"],
  ['rtp.lab.duplicates', "the lab receivers' duplicate count"],
  ['rtp.lab.reordered', "the lab receivers' reordered count"],
  ['rtp.device.lost', "the DUT's own RX counters (GET /status), at the end"],
  ['rtp.device.late', "the DUT's own RX playout counters (GET /status), at the end"],
  ['playout.fillMin', "the DUT's RX playout fill (GET /status), polled every 500 ms"],
  ['playout.fillMax', "as playout.fillMin"],
  ['ptp.lockTime', "the DUT's own time to lock, from its status (ptp.lastAcquisitionS) read when GET /status first says locked: its latest lock's acquisition, from the first Sync sample of its grandmaster its PTP slave took while unlocked until it locked (so no time with no grandmaster on the network, or with one followed but silent, is in it). Not the runner's wall time, which holds its set-up and 200 ms polling: that is the figure ptp.lockSeenFromRunnerStartMs (and, with the lab's grandmaster, ptp.lockSeenFromGrandmasterStartMs). A DUT already locked when the runner starts reports the acquisition of that older lock (figure ptp.dut.lockedDuringRun false)"],
  ['tx.pitMax', "lab/analyze on the runner's pcapng capture, the DUT's streams only"],
  ['tx.tsdf', 'as tx.pitMax'],
  ['network.lost', "datagrams of the lab senders' media the impairment relay dropped on their way into the DUT (its LossLedger), over the measured span (the relay is placed only when the scenario has network impairments; without, 0)"],
  ['network.delayMax', 'largest extra delay the relay gave a datagram it forwarded'],
  ['ledger.lost', 'as network.lost (the LossLedger: datagrams with no copy)'],
  ['glitches.expected', "stretches of audio the relay dropped (its LossLedger alone: each dropped datagram's media, mapped through the probe's round trip, merged where a listener hears one glitch) inside the analysed part of what came back"],
  ['glitches.heard', 'of glitches.expected, those heard as a glitch at their place (4 samples tolerance)'],
  ['glitches.unexplained', 'glitches heard where the relay dropped nothing (a late packet is one: the DUT\'s packet stamps are not read in real time)'],
  ['glitches.equalsLost', "every stretch of dropped audio heard, no glitch elsewhere, and the DUT's own lost count (GET /status) equal to the relay's drops over the measured span"],
]);

/**
 * What the real-time runner judges on every run by itself (a scenario does not name them):
 * the lab's own pacing, the DUT's memory and, when the run has a grandmaster, its PTP clock
 * over the measured span. Grandmaster events (failover, steps) are refused in real time
 * (below), so no lock loss or step is planned there: any is the DUT's or the grandmaster's.
 */
export const RUNNER_EXPECTATIONS: ReadonlyMap<string, string> = new Map([
  ['lab.pacing', "the lab's own senders were never later than the DUT's link offset for a packet (else the run is an error of the lab host, not a verdict on the DUT)"],
  ['dut.rssGrowth', "the DUT process's VmRSS at the end of the measured span minus at its start (when the rig names the DUT's process), max the rig's dut.process.rssGrowthMax"],
  ['ptp.lockLosses', "the DUT's ptp.counters.lockLosses at the end of the measured span minus at its start (the span starts 1 s after the lock the runner waited for), max 0; with a grandmaster only"],
  ['ptp.stepsInSpan', "the DUT's ptp.counters.steps over the measured span as ptp.lockLosses (the acquisition's step falls before it), max 0; with a grandmaster only"],
]);

/** Metrics that pair the relay's LossLedger with the glitches heard: they need the probe's round trip. */
const LEDGER_PAIRED = new Set(['glitches.expected', 'glitches.heard', 'glitches.unexplained', 'glitches.equalsLost']);

const VIRTUAL_ONLY: Record<string, string> = {
  'latency.error': "needs the emulated device's configured latency sum; a real DUT's properties are not read here",
  'latency.residual': "needs the device's per-packet and per-cycle stamps, which only the in-process EmulatedDut gives",
  'latency.toWire': 'needs the round trip attributed to the wire; not measured in real time',
  'rtp.device.duplicates': 'the software DUT does not count duplicates apart in /status',
  'rtp.device.reordered': 'the software DUT does not count reordering apart in /status',
  'playout.driftPpm': "needs the device's packet stamps",
  'discovery.time': "is timed to the network delay in virtual time; in real time the runner only polls the DUT's status (every 200 ms), so how long the DUT took to find a SAP or RTSP session is a figure (discovery.*AfterMs), not judged",
  'glitches.equalsLedger': "also needs the DUT's read window of every packet (its IO cycle phase), known only from the in-process device's stamps; use glitches.equalsLost",
  'ledger.late': "needs the DUT's read time of every packet (the in-process device's stamps)",
  'ledger.undecidable': "needs the DUT's read time of every packet (the in-process device's stamps)",
  'recovery.afterLoss': "needs the device's per-packet stamps of the in-process device",
  'sender.resumeTime': "needs the sender's first packet on its new group matched to the device's stamps (virtual time)",
  'dante.status': 'scenario receivers (dante) are not run in real time',
  'dante.worstMargin': 'scenario receivers (dante) are not run in real time',
  'recovery.time': 'grandmaster events and impairment windows are not run in real time',
  'ptp.offsetRms': "is the slave's true error, exact only in virtual time; the DUT's own offset estimate is reported as a figure instead",
  'ptp.offsetMax': "is the slave's true error, exact only in virtual time; the DUT's own offset estimate is reported as a figure instead",
  'ptp.recovery': 'grandmaster events are not run in real time',
  'ptp.steps': "counts every step of the run, the first lock's included (virtual time); in real time the runner judges the DUT's steps while measuring itself (ptp.stepsInSpan, max 0)",
  'ptp.grandmasterChanges': 'grandmaster events are not run in real time',
};

export interface PlannedSender {
  spec: SenderSpec;
  index: number;
  /** "group:port" (undefined for a Dante sender: it picks its group in its prefix). */
  destination?: string;
  /** How the DUT gets the stream: its SDP through the control endpoint, by SAP name, or by RTSP URL. */
  discovery: 'sdp' | 'sap' | 'rtsp';
  channels: number;
  /** DUT input channels (1-based), one per sender channel. */
  inputs: number[];
  rxId: string;
}

export interface ChannelOrigin {
  sender: number;
  /** Sender channel (0-based). */
  channel: number;
  /** DUT input it went into, and the DUT output that should play it. */
  input: number;
  output: number;
}

export interface PlannedTx {
  id: string;
  name: string;
  destination: string;
  channels: number;
  encoding: 'L16' | 'L24' | 'L32';
  ptimeUs: number;
  /** DUT output channels (1-based) the stream carries. */
  outputs: number[];
  /** Per stream channel: where it should come from (undefined: an output no sender feeds). */
  origins: (ChannelOrigin | undefined)[];
}

/** A device event (scenario device.events) the runner makes the DUT do, at `at` ns into the measured span. */
export interface PlannedDutEvent {
  at: number;
  /** stop: the DUT stops sending the stream (the runner removes it); start: it sends it again (added as it was). */
  action: 'stop' | 'start';
  /** Index into `transmit`. */
  tx: number;
}

export interface HilPlan {
  senders: PlannedSender[];
  /** The scenario has network impairments: the relay goes between the senders and the DUT. */
  relay: boolean;
  transmit: PlannedTx[];
  /** In time order. */
  dutEvents: PlannedDutEvent[];
  /** Every problem that stops the run. */
  refusals: string[];
}

function keyOf(path: string): string {
  return path;
}

/** The plan for `s` on `rig`; `refusals` lists what cannot run in real time. */
export function planScenario(s: Scenario, rig: Rig): HilPlan {
  const refusals: string[] = [];
  const refuse = (key: string, why: string) => refusals.push(`${keyOf(key)}: ${why}`);

  const n = s.network;
  const impaired = (['delay', 'loss', 'burstLoss', 'jitter', 'reorder', 'duplicate'] as const).some((k) => n[k] !== undefined);
  if (impaired) {
    // The relay (lab/impair/udp-relay.ts) sits only between the lab's senders and the DUT:
    // PTP, discovery and the DUT's own streams go straight, and the scenario must say so.
    const traffic = n.select?.traffic ?? ['media', 'ptp', 'discovery'];
    if (traffic.length !== 1 || traffic[0] !== 'media') refuse('network.select.traffic', "on a real link the impairment relay carries the lab senders' media only (relayed PTP would be stamped before its delay; SAP and mDNS go straight): write select: { traffic: [media], path: to-device }");
    const pathTo = n.select?.path ?? 'both';
    if (pathTo !== 'to-device') refuse('network.select.path', "on a real link the impairment relay sits between the lab's senders and the DUT only (the DUT's own streams reach the lab's receivers directly): write path: to-device");
  } else if (n.select !== undefined || n.active !== undefined) {
    refuse(n.select !== undefined ? 'network.select' : 'network.active', 'selects what impairments hit, but the scenario has none (delay, loss, burstLoss, jitter, reorder, duplicate)');
  }
  if (s.grandmasters.length > 1) refuse('grandmasters', 'one grandmaster at most on the rig (BMCA between several emulated grandmasters is a virtual-time scenario)');
  s.grandmasters.forEach((g, i) => {
    if (g.events.length > 0) refuse(`grandmasters[${i}].events`, 'scripted grandmaster events (steps, failover, power) run in virtual time only');
    if (g.ppm !== 0) refuse(`grandmasters[${i}].ppm`, "the lab's grandmaster serves the host clock in real time: it cannot run at a frequency offset");
  });
  if (rig.ptp.grandmaster === 'external' && s.grandmasters.length > 0) {
    // Not a refusal: the rig's external grandmaster stands in for the scenario's.
  }
  if (s.receivers.length > 0) refuse('receivers', "scenario receivers (aes67, dante) are not run in real time; the runner's own receivers measure every DUT stream");
  if (s.device.hostDrift !== 0) refuse('device.hostDrift', "is the emulated device's stand-in clock error; a real DUT's clock is what it is");
  if (s.device.loopback !== true) refuse('device.loopback', "the rig's loopback map says how the DUT is wired; remove device.loopback from the scenario");
  if (s.expect['audio.mismatched'] && !s.senders.some((x) => x.probe)) {
    refuse('expect.audio.mismatched', 'in real time the round trip comes from the probe: add probe: { channel: N } to a sender');
  }
  if (Object.keys(s.expect).some((k) => LEDGER_PAIRED.has(k)) && !s.senders.some((x) => x.probe)) {
    refuse('expect', `${Object.keys(s.expect).filter((k) => LEDGER_PAIRED.has(k)).join(', ')}: lost audio is placed in what came back by the round trip, which in real time comes from the probe: add probe: { channel: N } to a sender`);
  }
  for (const [name] of Object.entries(s.expect)) {
    if (REAL_TIME_METRICS.has(name)) continue;
    refuse(`expect.${name}`, VIRTUAL_ONLY[name] ?? 'not measured by the real-time runner');
  }

  // Senders: AES67 (the runner gives the DUT its SDP), Dante (the DUT finds it by its SAP
  // name) and RAVENNA (found by DNS-SD, the DUT describes it by RTSP URL).
  const used = new Set<number>();
  const nextFree = () => {
    let c = 1;
    while (used.has(c)) c++;
    return c;
  };
  const senders: PlannedSender[] = [];
  s.senders.forEach((spec, i) => {
    if (spec.kind === 'pcap') {
      refuse(`senders[${i}].kind`, 'pcap senders replay a capture in virtual time only; use kind aes67, dante or ravenna');
      return;
    }
    if (spec.drift !== 0) refuse(`senders[${i}].drift`, "a sender's media clock drift runs in virtual time only");
    if (spec.source !== undefined) refuse(`senders[${i}].source`, "the lab sends from the rig's lab.address; remove source");
    if (spec.reboots !== undefined) refuse(`senders[${i}].reboots`, 'sender reboots run in virtual time only');
    spec.events.forEach((e, k) => {
      if ('reboot' in e) refuse(`senders[${i}].events[${k}].reboot`, 'sender reboots run in virtual time only');
      else if (impaired) refuse(`senders[${i}].events[${k}].session`, 'a RAVENNA session that moves to another group leaves the impairment relay behind (it relays the first group only): drop the network impairments or the session change');
    });
    if (spec.sdp !== undefined) refuse(`senders[${i}].sdp`, 'the SDP variants are pasted into the in-process device in virtual time only');
    const channels = spec.channels ?? 2;
    const inputs = spec.map ?? [];
    if (!spec.map) for (let c = 0; c < channels; c++) {
      const x = nextFree();
      used.add(x);
      inputs.push(x);
    }
    else for (const x of inputs) used.add(x);
    const discovery = spec.kind === 'dante' ? 'sap' : spec.kind === 'ravenna' ? 'rtsp' : 'sdp';
    // A Dante device picks its group in its prefix (the rig's /24 here): known when the sender exists.
    const destination = spec.kind === 'dante' ? undefined : (spec.destination ?? `${rig.multicast}.${1 + i}:5004`);
    senders.push({ spec, index: i, ...(destination ? { destination } : {}), discovery, channels, inputs, rxId: `hil-rx-${i + 1}` });
  });

  const originOf = (output: number): ChannelOrigin | undefined => {
    const input = loopbackInput(rig, output);
    if (input === undefined) return undefined;
    for (const x of senders) {
      const k = x.inputs.indexOf(input);
      if (k >= 0) return { sender: x.index, channel: k, input, output };
    }
    return undefined;
  };

  const transmit: PlannedTx[] = [];
  if (s.device.tx) {
    s.device.tx.forEach((t, i) => {
      const outputs = t.map ?? Array.from({ length: t.channels }, (_, k) => k + 1);
      transmit.push({
        id: `hil-tx-${i + 1}`,
        name: t.name,
        destination: t.destination ?? `${rig.multicast}.${101 + i}:5004`,
        channels: t.channels,
        encoding: t.encoding,
        ptimeUs: t.ptime / 1000,
        outputs,
        origins: outputs.map(originOf),
      });
    });
  } else {
    // One per sender, same format, carrying the outputs the rig wires its inputs to.
    senders.forEach((x, i) => {
      const outputs: number[] = [];
      x.inputs.forEach((input, k) => {
        const o = loopbackOutput(rig, input);
        if (o === undefined) refuse(`senders[${x.index}]`, `lands on DUT input ${input} (channel ${k + 1}), which the rig's loopback map does not wire to an output; add ${input}: <output> to loopback`);
        else outputs.push(o);
      });
      if (outputs.length !== x.channels) return;
      transmit.push({
        id: `hil-tx-${i + 1}`,
        name: `${x.spec.name} back`,
        destination: `${rig.multicast}.${101 + i}:5004`,
        channels: x.channels,
        encoding: x.spec.encoding ?? 'L24',
        ptimeUs: (x.spec.ptime ?? 1_000_000) / 1000,
        outputs,
        origins: outputs.map(originOf),
      });
    });
  }
  // Device events: a stream is named as the scenario names it (device.tx name, or the sender's whose stream it returns).
  const dutEvents: PlannedDutEvent[] = [];
  (s.device.events ?? []).map((e, k) => ({ e, k })).sort((a, b) => a.e.at - b.e.at).forEach(({ e, k }) => {
    const [action, key, name] = 'stopTx' in e ? (['stop', 'stopTx', e.stopTx] as const) : (['start', 'startTx', e.startTx] as const);
    const j = senders.findIndex((x) => x.spec.name === name);
    const t = s.device.tx ? transmit.findIndex((q) => q.name === name) : transmit.findIndex((q) => q.id === `hil-tx-${j + 1}`);
    if (t < 0) return refuse(`device.events[${k}].${key}`, `'${name}' is no transmit stream the DUT gets on this rig (it sends: ${transmit.map((q) => q.name).join(', ') || 'none'})`);
    // A stream starts sending: each event on it must change that (stop, start, stop ...).
    const last = dutEvents.filter((d) => d.tx === t).pop()?.action ?? 'start';
    if (last === action) return refuse(`device.events[${k}].${key}`, action === 'stop' ? `'${name}' is stopped again at ${e.at / 1e9} s, but it was stopped before and not started since` : `'${name}' is started at ${e.at / 1e9} s, but it is sending then: stop it before`);
    dutEvents.push({ at: e.at, action, tx: t });
  });
  return { senders, relay: impaired, transmit, dutEvents, refusals };
}
