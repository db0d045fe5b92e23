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
  ['ptp.lockTime', "from the start of the lab's grandmaster until GET /status first says the DUT's PTP slave is locked (polled every 200 ms)"],
  ['tx.pitMax', "lab/analyze on the runner's pcapng capture, the DUT's streams only"],
  ['tx.tsdf', 'as tx.pitMax'],
]);

const VIRTUAL_ONLY: Record<string, string> = {
  'latency.error': "needs the emulated device's configured latency sum; a real DUT's properties are not read here",
  'latency.residual': "needs the device's per-packet and per-cycle stamps, which only the in-process EmulatedDut gives",
  'latency.toWire': 'needs the round trip attributed to the wire; not measured in real time',
  'glitches.unexplained': "needs the impairment model's log of what it dropped; a real link has none",
  'glitches.equalsLost': "needs the impairment model's log of what it dropped; a real link has none",
  'rtp.device.duplicates': 'the software DUT does not count duplicates apart in /status',
  'rtp.device.reordered': 'the software DUT does not count reordering apart in /status',
  'network.lost': 'needs the virtual network impairment model',
  'network.delayMax': 'needs the virtual network impairment model',
  'playout.driftPpm': "needs the device's packet stamps",
  'discovery.time': 'the runner gives the DUT each SDP through its control endpoint: there is no discovery to time',
  'dante.status': 'scenario receivers (dante) are not run in real time',
  'dante.worstMargin': 'scenario receivers (dante) are not run in real time',
  'recovery.time': 'grandmaster events and impairment windows are not run in real time',
  'ptp.offsetRms': "is the slave's true error, exact only in virtual time; the DUT's own offset estimate is reported as a figure instead",
  'ptp.offsetMax': "is the slave's true error, exact only in virtual time; the DUT's own offset estimate is reported as a figure instead",
  'ptp.recovery': 'grandmaster events are not run in real time',
  'ptp.steps': "the DUT's PTP counters are reported as figures; not judged in real time",
  'ptp.grandmasterChanges': 'grandmaster events are not run in real time',
};

export interface PlannedSender {
  spec: SenderSpec;
  index: number;
  /** "group:port". */
  destination: string;
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

export interface HilPlan {
  senders: PlannedSender[];
  transmit: PlannedTx[];
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
  for (const k of ['delay', 'loss', 'burstLoss', 'jitter', 'reorder', 'duplicate', 'select', 'active'] as const) {
    if (n[k] !== undefined) refuse(`network.${k}`, 'network impairments run on the virtual network only (the runner has no impairment path on a real link, and this kernel has no netem); remove it or run the scenario with aes67-lab run');
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
  for (const [name] of Object.entries(s.expect)) {
    if (REAL_TIME_METRICS.has(name)) continue;
    refuse(`expect.${name}`, VIRTUAL_ONLY[name] ?? 'not measured by the real-time runner');
  }

  // Senders: only AES67 senders whose SDP the runner gives the DUT.
  const used = new Set<number>();
  const nextFree = () => {
    let c = 1;
    while (used.has(c)) c++;
    return c;
  };
  const senders: PlannedSender[] = [];
  s.senders.forEach((spec, i) => {
    if (spec.kind !== 'aes67') {
      refuse(`senders[${i}].kind`, `${spec.kind} senders are not run in real time yet (their discovery, SAP or DNS-SD + RTSP, is a virtual-time path here); use kind aes67`);
      return;
    }
    if (spec.drift !== 0) refuse(`senders[${i}].drift`, "a sender's media clock drift runs in virtual time only");
    if (spec.source !== undefined) refuse(`senders[${i}].source`, "the lab sends from the rig's lab.address; remove source");
    const channels = spec.channels ?? 2;
    const inputs = spec.map ?? [];
    if (!spec.map) for (let c = 0; c < channels; c++) {
      const x = nextFree();
      used.add(x);
      inputs.push(x);
    }
    else for (const x of inputs) used.add(x);
    senders.push({ spec, index: i, destination: spec.destination ?? `${rig.multicast}.${1 + i}:5004`, channels, inputs, rxId: `hil-rx-${i + 1}` });
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
  return { senders, transmit, refusals };
}
