// The device under test as the scenario configures it: the engine's EmulatedDut on the
// device's host, its receive streams described from the senders' SDP by the engine's own
// SDP reader (native describeSdp, as the device would read them), its transmit streams
// from `device.tx` or one loopback stream per sender (the sender's format, its channels
// back out through the loopback), and the TX SDPs as the engine writes them (its
// StreamManager's writer: EmulatedDut does not write SDP itself yet).
//
// Its media clock is EmulatedDut's perfectly-locked stand-in: PTP time = the lab's true
// timescale (the grandmasters' epoch), at the device's hostDrift, until the engine's PTP
// slave runs inside it.
import { loadNative, type VirtualNetwork } from '../../native/index.ts';
import type { StreamManager } from '../../native/stream.ts';
import type { DutStreamConfig, DutTransmitConfig, EmulatedDut, EmulatedDutConfig } from '../../native/driver.ts';
import type { NativeSdpDescription } from '../../native/sdp.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { fnv1a } from '../peers/aes67-sender.ts';
import type { Scenario } from './schema.ts';
import { DEVICE_ADDRESS, framesOf, ScenarioSetupError, type SenderRuntime } from './world.ts';

export interface ReceiveStream {
  sender: SenderRuntime;
  description: NativeSdpDescription;
  config: DutStreamConfig;
}

export interface TransmitStream {
  name: string;
  config: DutTransmitConfig;
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
  /** Keeps the StreamManager that wrote the TX SDPs alive with the device. */
  sdpWriter: StreamManager;
}

const TX_PAYLOAD_TYPE = 97;

export function buildDevice(s: Scenario, senders: SenderRuntime[], epoch: bigint, network: VirtualNetwork): DeviceUnderTest {
  const native = loadNative();
  const d = s.device;
  const rate = d.rate;
  const linkOffsetFrames = Math.round((d.linkOffset * rate) / 1e9);

  // Receive streams, and which sender channel each device input carries.
  const inputOrigin: ({ rx: number; sender: SenderRuntime; channel: number } | null)[] = new Array(d.inputs).fill(null);
  let nextFree = 0;
  const receive: ReceiveStream[] = senders.map((sender, rx) => {
    const text = sender.sdp();
    if (text === undefined) throw new Error(`sender '${sender.spec.name}': no SDP found`);
    const description = native.describeSdp(text);
    if (description.error !== undefined) {
      throw new ScenarioSetupError(`sender '${sender.spec.name}': the device's SDP reader refuses its SDP (line ${description.line}: ${description.message})`);
    }
    if (description.sampleRate !== rate) throw new ScenarioSetupError(`sender '${sender.spec.name}' runs at ${description.sampleRate} Hz and the device at ${rate} Hz: set device.rate or the sender's rate`);
    let map = sender.spec.map?.map((c) => c - 1);
    if (!map) {
      while (nextFree < d.inputs && inputOrigin[nextFree]) nextFree++;
      map = Array.from({ length: description.channels }, (_, k) => nextFree + k);
      nextFree += description.channels;
    }
    if (map.length !== description.channels) throw new ScenarioSetupError(`senders[${rx}].map lists ${map.length} inputs for a ${description.channels}-channel stream`);
    map.forEach((input, c) => {
      if (input >= d.inputs) throw new ScenarioSetupError(`sender '${sender.spec.name}' channel ${c + 1} would land on input ${input + 1}, past the device's ${d.inputs} inputs: raise device.inputs or give senders[${rx}].map`);
      const other = inputOrigin[input];
      if (other) throw new ScenarioSetupError(`senders '${other.sender.spec.name}' and '${sender.spec.name}' both land on device input ${input + 1}: give senders[${rx}].map`);
      inputOrigin[input] = { rx, sender, channel: c };
    });
    const config: DutStreamConfig = {
      name: description.name,
      destination: `${description.destination}:${description.port}`,
      ...(description.sourceFilter ? { source: description.sourceFilter } : {}),
      encoding: description.encoding,
      channels: description.channels,
      sampleRate: description.sampleRate,
      payloadType: description.payloadType,
      mediaclkOffset: description.mediaclkOffset ?? 0,
      framesPerPacket: description.framesPerPacket,
      ...(description.channelLabels ? { channelLabels: description.channelLabels } : {}),
      deviceChannels: map,
    };
    return { sender, description, config };
  });

  // The loopback client: output o plays input loopbackMap[o].
  const loopbackMap = d.loopback === true ? undefined : Array.from({ length: d.outputs }, (_, o) => ((d.loopback as number[])[o] ?? 0) - 1);
  const outputSource = (o: number) => (loopbackMap ? loopbackMap[o] : o < d.inputs ? o : -1);

  const txSpecs: { name: string; channels: number; encoding: PcmEncoding; ptime: number; destination?: string; map: number[] }[] = d.tx
    ? d.tx.map((t, i) => ({ name: t.name, channels: t.channels, encoding: t.encoding, ptime: t.ptime, destination: t.destination, map: (t.map ?? Array.from({ length: t.channels }, (_, k) => k + 1)).map((c) => c - 1), index: i }))
    : receive.map((r) => ({
        name: r.sender.spec.name,
        channels: r.config.channels,
        encoding: r.config.encoding,
        ptime: (r.config.framesPerPacket * 1e9) / rate,
        map: [...r.config.deviceChannels],
      }));
  const sdpWriter = new native.StreamManager(network, DEVICE_ADDRESS, { sampleRate: rate });
  const transmit: TransmitStream[] = txSpecs.map((t, i) => {
    for (const o of t.map) if (o >= d.outputs) throw new ScenarioSetupError(`device TX stream '${t.name}' sends output ${o + 1}, past the device's ${d.outputs} outputs`);
    const destination = t.destination ?? `239.67.100.${1 + i}:5004`;
    const config: DutTransmitConfig = {
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
    };
    sdpWriter.addTx({
      id: `tx${i}`,
      name: t.name,
      destination,
      format: { encoding: t.encoding, channels: t.channels, sampleRate: rate, payloadType: TX_PAYLOAD_TYPE, mediaclkOffset: config.mediaclkOffset },
      framesPerPacket: config.framesPerPacket,
      channelMap: t.map.map((o) => o + 1),
      ssrc: config.ssrc,
    });
    const origins = t.map.map((o) => {
      const input = outputSource(o);
      return input >= 0 ? inputOrigin[input] : null;
    });
    return { name: t.name, config, sdp: sdpWriter.txSdp(`tx${i}`), origins };
  });

  const config: EmulatedDutConfig = {
    device: { name: `aes67-lab ${s.name}`, inputChannels: d.inputs, outputChannels: d.outputs, sampleRate: rate },
    ioBufferFrames: d.buffer,
    linkOffsetFrames,
    ptpEpochNs: epoch,
    mediaClockPpm: d.hostDrift,
    receive: receive.map((r) => r.config),
    transmit: transmit.map((t) => t.config),
    ...(loopbackMap ? { loopbackMap } : {}),
  };
  let dut: EmulatedDut;
  try {
    dut = new native.EmulatedDut(network, DEVICE_ADDRESS, config);
  } catch (e) {
    throw new ScenarioSetupError(`the device refuses its configuration: ${(e as Error).message}`);
  }
  return { dut, config, receive, transmit, rate, linkOffsetFrames, sdpWriter: sdpWriter };
}
