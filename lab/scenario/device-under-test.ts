// The device under test as the scenario configures it: the engine's EmulatedDut on the
// device's host, built at the start of the run and doing its own control plane:
// - its media clock: with grandmasters, its own PTP slave (the engine's PtpSlave inside
//   EmulatedDut: lock, steps, failover all reach its audio); without, a stand-in locked to
//   the true timescale at `device.hostDrift` ppm;
// - its receive streams: an aes67 or pcap sender's SDP pasted in (the engine's SDP reader
//   parses it), a dante sender's SAP session followed by name (its own SAP listener), a
//   ravenna session by its RTSP URL (the runner hands it the lab RTSP client's DESCRIBE and
//   ANNOUNCE answers through provideSdp: the virtual network carries UDP only);
// - its transmit streams from `device.tx`, or one per sender (same format, its channels
//   back out through the loopback), their SDP written by the device (txSdp) and announced
//   by its own SAP announcer.
// The runner reads back what it subscribed to (describeReceive) once every stream is active.
import { loadNative, type VirtualNetwork } from '../../native/index.ts';
import type { DutReceiveConfig, DutStreamConfig, DutTransmitConfig, EmulatedDut, EmulatedDutConfig } from '../../native/driver.ts';
import type { NativeSdpDescription } from '../../native/sdp.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { fnv1a } from '../peers/aes67-sender.ts';
import type { Scenario } from './schema.ts';
import { DEVICE_ADDRESS, framesOf, ScenarioSetupError, type SenderRuntime } from './world.ts';

export interface ReceiveStream {
  sender: SenderRuntime;
  /** The device's stream id. */
  id: string;
  /** How the device finds it. */
  via: 'sdp' | 'sap' | 'rtsp';
  /** Filled by describeReceive once the device subscribed. */
  description: NativeSdpDescription;
  config: DutStreamConfig;
}

export interface TransmitStream {
  name: string;
  config: DutTransmitConfig;
  /** The SDP the device wrote for it when its IO started (it may change later: see dut.txSdp). */
  sdp: string;
  /** For each stream channel: where its audio comes from (through output -> loopback -> input), or null. */
  origins: ({ rx: number; sender: SenderRuntime; channel: number } | null)[];
}

export interface DeviceUnderTest {
  dut: EmulatedDut;
  config: EmulatedDutConfig;
  receive: ReceiveStream[];
  transmit: TransmitStream[];
  rate: number;
  linkOffsetFrames: number;
  /** The device follows the scenario's grandmasters with its own PTP slave. */
  ptp: boolean;
}

/** Virtual time between the runner's bookkeeping steps (stamp drains, fill samples, progress). */
export const RUN_SLICE_NS = 10_000_000;

/**
 * Packet stamps the device keeps between two drains: 8x what its streams send and receive in
 * a slice (duplicates, bursts after jitter), at least 4096. The engine's default (65,536 of
 * 48 bytes) is zeroed at every run: 3 MB of fresh pages, a third of the device's build
 * (bench/virtual-speed.ts). A log that still fills drops the newest and says how many
 * (measure.ts: device.stampLogDropped); the runner drops what comes before the start itself.
 */
function packetLogCapacity(packetsPerSecond: number): number {
  const need = (8 * packetsPerSecond * RUN_SLICE_NS) / 1e9;
  let capacity = 4096;
  while (capacity < need) capacity *= 2;
  return capacity;
}

const TX_PAYLOAD_TYPE = 97;
/** The device's SAP announcement interval (RFC 2974 leaves it to bandwidth; Dante and the reference daemon use 30 s). */
const SAP_ANNOUNCE_INTERVAL_NS = 30e9;

/** Builds the device at the start of the run: nothing is described yet; receive[].description comes from describeReceive. */
export function buildDevice(s: Scenario, senders: SenderRuntime[], epoch: bigint, network: VirtualNetwork, seed: number, reference = false): DeviceUnderTest {
  const native = loadNative();
  const d = s.device;
  const rate = d.rate;
  const linkOffsetFrames = Math.round((d.linkOffset * rate) / 1e9);

  // Which device input each sender channel lands on.
  const inputOrigin: ({ rx: number; sender: SenderRuntime; channel: number } | null)[] = new Array(d.inputs).fill(null);
  let nextFree = 0;
  const maps = senders.map((sender, rx) => {
    if (sender.rate !== rate) throw new ScenarioSetupError(`sender '${sender.spec.name}' runs at ${sender.rate} Hz and the device at ${rate} Hz: set device.rate or the sender's rate`);
    let map = sender.spec.map?.map((c) => c - 1);
    if (!map) {
      while (nextFree < d.inputs && inputOrigin[nextFree]) nextFree++;
      map = Array.from({ length: sender.channels }, (_, k) => nextFree + k);
      nextFree += sender.channels;
    }
    if (map.length !== sender.channels) throw new ScenarioSetupError(`senders[${rx}].map lists ${map.length} inputs for a ${sender.channels}-channel stream`);
    map.forEach((input, c) => {
      if (input >= d.inputs) throw new ScenarioSetupError(`sender '${sender.spec.name}' channel ${c + 1} would land on input ${input + 1}, past the device's ${d.inputs} inputs: raise device.inputs or give senders[${rx}].map`);
      const other = inputOrigin[input];
      if (other) throw new ScenarioSetupError(`senders '${other.sender.spec.name}' and '${sender.spec.name}' both land on device input ${input + 1}: give senders[${rx}].map`);
      inputOrigin[input] = { rx, sender, channel: c };
    });
    return map;
  });
  const receive: ReceiveStream[] = [];
  const receiveConfig: DutReceiveConfig[] = senders.map((sender, rx) => {
    const id = `rx${rx}`;
    const deviceChannels = maps[rx];
    const k = sender.spec.kind;
    const via = k === 'dante' ? 'sap' : k === 'ravenna' ? 'rtsp' : 'sdp';
    receive.push({ sender, id, via, description: undefined as unknown as NativeSdpDescription, config: undefined as unknown as DutStreamConfig });
    if (via === 'sap') return { id, sapName: sender.sessionName!, deviceChannels };
    if (via === 'rtsp') return { id, rtspUrl: sender.rtspUrl!, deviceChannels };
    const text = sender.sdp();
    if (text === undefined) throw new Error(`sender '${sender.spec.name}': no SDP to paste`);
    return { id, sdp: text, deviceChannels };
  });

  // The loopback client: output o plays input loopbackMap[o].
  const loopbackMap = d.loopback === true ? undefined : Array.from({ length: d.outputs }, (_, o) => ((d.loopback as number[])[o] ?? 0) - 1);
  const outputSource = (o: number) => (loopbackMap ? loopbackMap[o] : o < d.inputs ? o : -1);

  const txSpecs: { name: string; channels: number; encoding: PcmEncoding; ptime: number; destination?: string; map: number[]; sendOffset: number }[] = d.tx
    ? d.tx.map((t) => ({ name: t.name, channels: t.channels, encoding: t.encoding, ptime: t.ptime, destination: t.destination, map: (t.map ?? Array.from({ length: t.channels }, (_, k) => k + 1)).map((c) => c - 1), sendOffset: t.sendOffset }))
    : senders.map((x, rx) => ({
        name: x.spec.name,
        channels: x.channels,
        encoding: x.encoding,
        ptime: (x.framesPerPacket * 1e9) / rate,
        map: [...maps[rx]],
        sendOffset: 0,
      }));
  const transmit: TransmitStream[] = txSpecs.map((t, i) => {
    for (const o of t.map) if (o >= d.outputs) throw new ScenarioSetupError(`device TX stream '${t.name}' sends output ${o + 1}, past the device's ${d.outputs} outputs`);
    const destination = t.destination ?? `239.67.100.${1 + i}:5004`;
    const config: DutTransmitConfig = {
      id: `tx${i}`,
      name: t.name,
      destination,
      encoding: t.encoding,
      channels: t.channels,
      sampleRate: rate,
      payloadType: TX_PAYLOAD_TYPE,
      mediaclkOffset: fnv1a(`tx mediaclk ${t.name}`),
      framesPerPacket: framesOf(t.ptime, rate, `device TX stream '${t.name}' ptime`),
      deviceChannels: t.map,
      ssrc: fnv1a(`tx ssrc ${t.name}`),
      announce: true,
      ...(t.sendOffset > 0 ? { sendOffsetNs: t.sendOffset } : {}),
    };
    const origins = t.map.map((o) => {
      const input = outputSource(o);
      return input >= 0 ? inputOrigin[input] : null;
    });
    return { name: t.name, config, sdp: '', origins };
  });

  const ptp = s.grandmasters.length > 0;
  const config: EmulatedDutConfig = {
    device: { name: `aes67-lab ${s.name}`, inputChannels: d.inputs, outputChannels: d.outputs, sampleRate: rate },
    ioBufferFrames: d.buffer,
    linkOffsetFrames,
    ...(d.ioWakeDelay > 0 ? { ioWakeDelayMaxNs: d.ioWakeDelay, ioWakeSeed: seed } : {}),
    ...(ptp ? { ptp: { domain: s.grandmasters[0].domain, seed } } : { ptpEpochNs: epoch, mediaClockPpm: d.hostDrift }),
    sap: { listen: true, announceIntervalNs: SAP_ANNOUNCE_INTERVAL_NS },
    receive: receiveConfig,
    transmit: transmit.map((t) => t.config),
    ...(loopbackMap ? { loopbackMap } : {}),
    // IO cycles are stamped only once IO runs, and the runner drains the log every 10 ms
    // slice (a few dozen cycles): 8192 is ample, and spares 4 MB zeroed at every run.
    cycleLogCapacity: 8192,
    packetLogCapacity: packetLogCapacity(
      senders.reduce((a, x) => a + rate / x.framesPerPacket, 0) + transmit.reduce((a, t) => a + rate / t.config.framesPerPacket, 0),
    ),
    // The runner's reference way (runner.ts RecordOptions): every TX due time recomputed at every poll.
    ...(reference ? { reuseTransmitDue: false } : {}),
  };
  let dut: EmulatedDut;
  try {
    dut = new native.EmulatedDut(network, DEVICE_ADDRESS, config);
  } catch (e) {
    throw new ScenarioSetupError(`the device refuses its configuration: ${(e as Error).message}`);
  }
  return { dut, config, receive, transmit, rate, linkOffsetFrames, ptp };
}

/** Why the device has not subscribed to receive stream i yet ('' when it has). */
export function receiveProblem(device: DeviceUnderTest, i: number): string {
  const st = device.dut.streams().receive[i];
  return st.active ? '' : st.problem || 'waiting';
}

/**
 * What the device subscribed to, read back once every receive stream is active: the SDP it
 * got (pasted, heard by SAP, or handed from RTSP) described by the engine's SDP reader,
 * checked against the device's own view of the stream.
 */
export function describeReceive(device: DeviceUnderTest, sdpOf: (r: ReceiveStream) => string | undefined): void {
  const native = loadNative();
  const states = device.dut.streams().receive;
  device.receive.forEach((r, i) => {
    const text = sdpOf(r);
    if (text === undefined) throw new ScenarioSetupError(`sender '${r.sender.spec.name}': the device subscribed, but the lab cannot tell to which SDP`);
    const description = native.describeSdp(text);
    if (description.error !== undefined) {
      throw new ScenarioSetupError(`sender '${r.sender.spec.name}': the device's SDP reader refuses its SDP (line ${description.line}: ${description.message})`);
    }
    const st = states[i];
    const destination = `${description.destination}:${description.port}`;
    if (st.destination !== null && st.destination !== destination) {
      throw new ScenarioSetupError(`sender '${r.sender.spec.name}': the device receives ${st.destination}, its SDP says ${destination}`);
    }
    r.description = description;
    r.config = {
      name: description.name,
      destination,
      ...(description.sourceFilter ? { source: description.sourceFilter } : {}),
      encoding: description.encoding,
      channels: description.channels,
      sampleRate: description.sampleRate,
      payloadType: description.payloadType,
      mediaclkOffset: description.mediaclkOffset ?? 0,
      framesPerPacket: description.framesPerPacket,
      ...(description.channelLabels ? { channelLabels: description.channelLabels } : {}),
      deviceChannels: st.deviceChannels,
    };
  });
}
