// An AES67 sender in C++ for virtual-time runs (native/src/virtual_actors_binding.cc): the
// datagrams lab/peers/aes67-sender.ts Aes67Sender sends, byte for byte and at the same due
// times, without a JavaScript call per packet. It plays channels that are periodic tables
// (lab/scenario/sender-signal.ts: whole-hertz sines, the MLS probe, silence) on a linear
// PTP timescale (lab/net/ptp-timescale.ts linearTimescale); anything else (reboots,
// scripted events, drift, stepped grandmasters, noise, WAV) stays with Aes67Sender, which
// remains the live peer. An Aes67Sender twin that never sends gives it its description
// (SSRC, sequence, SDP) and checks the options as the TypeScript sender does.
import type { DatagramSocket, VirtualNetwork } from '../../native/index.ts';
import { loadNative } from '../../native/index.ts';
import type { NativeActorHandle, NativeAes67Sender as NativeSender, NativeLinearTimescale } from '../../native/virtual-actors.ts';
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';
import type { Aes67StreamDescription, PtpRefclk } from '../net/sdp.ts';
import { Aes67Sender, type Aes67SenderOptions } from './aes67-sender.ts';

export interface NativeAes67SenderOptions extends Aes67SenderOptions {
  network: VirtualNetwork;
  /** `timescale` as linearTimescale's parameters (checked against it). */
  linear: NativeLinearTimescale;
  /** Per channel: one period of what it plays (checked against `signal`). */
  tables: Float32Array[];
}

/**
 * A table's bytes in an encoding, made once per table: a scenario's senders share their
 * tables (8 senders x 8 channels of the same 8 sines encode 8 tables).
 */
const encodedTables = new WeakMap<Float32Array, Map<PcmEncoding, Uint8Array>>();
function encodedTable(table: Float32Array, encoding: PcmEncoding): Uint8Array {
  let byEncoding = encodedTables.get(table);
  if (!byEncoding) encodedTables.set(table, (byEncoding = new Map()));
  let bytes = byEncoding.get(encoding);
  // The engine's encoder (bit for bit lab/net/pcm.ts's, crossed in native/test): a 1 s
  // table of 8 channels took ~10 ms in TypeScript in a process's first run.
  if (!bytes) byEncoding.set(encoding, (bytes = loadNative().encodePcm(encoding, table)));
  return bytes;
}

/** A socket that refuses to be used: the twin only describes the stream. */
function detachedSocket(): DatagramSocket {
  const refuse = (what: string) => () => {
    throw new Error(`native-aes67-sender: the TypeScript twin does not ${what} (the C++ sender does)`);
  };
  return { send: refuse('send'), receive: refuse('receive'), join: refuse('join'), leave: refuse('leave'), localEndpoint: refuse('have an endpoint'), receiveOverflows: refuse('receive'), lastTransmitTime: refuse('send'), close: () => {} };
}

/** Throws unless `t` gives what linearTimescale(l.epochNs, l.ppm) gives at a few times. */
export function checkLinear(t: PtpTimescale, l: NativeLinearTimescale, what: string): void {
  const ref = linearTimescale(l.epochNs, l.ppm);
  for (const local of [0, 1_000_000_007, 3_600_000_000_000]) {
    if (t.ptpTimeAt(local) !== ref.ptpTimeAt(local)) throw new Error(`${what}: the timescale is not linearTimescale(${l.epochNs}, ${l.ppm}) (at local ${local} ns)`);
    const ptp = ref.ptpTimeAt(local) + 333n;
    if (t.localTimeOf(ptp) !== ref.localTimeOf(ptp)) throw new Error(`${what}: the timescale is not linearTimescale(${l.epochNs}, ${l.ppm}) (local time of ${ptp})`);
  }
}

export class NativeAes67Sender implements TimedActor {
  readonly pollOn = 'due';
  readonly native: NativeActorHandle;
  readonly framesPerPacket: number;
  private readonly twin: Aes67Sender;
  private readonly sender: NativeSender;

  constructor(readonly o: NativeAes67SenderOptions) {
    if (o.reboots?.length) throw new Error('native-aes67-sender: reboots are not implemented natively; use Aes67Sender');
    const t = o.transport;
    const detached: LabTransport = { kind: t.kind, address: t.address, now: () => t.now(), open: () => detachedSocket() };
    this.twin = new Aes67Sender({ ...o, transport: detached });
    checkLinear(o.timescale, o.linear, 'native-aes67-sender');
    const channels = o.channels;
    if (o.tables.length !== channels) throw new Error(`native-aes67-sender: ${o.tables.length} tables for ${channels} channels`);
    // The tables must be the signal: a packet's worth at the start and far into the stream.
    const F = this.twin.framesPerPacket;
    const rendered = new Float32Array(F * channels);
    for (const start of [0, 123_456_789_013]) {
      this.twin.signal.render(start, F, channels, rendered);
      for (let c = 0; c < channels; c++) {
        const table = o.tables[c];
        for (let i = 0; i < F; i++) {
          const want = rendered[i * channels + c];
          const got = table[(start + i) % table.length];
          if (!(want === got || (Number.isNaN(want) && Number.isNaN(got)))) throw new Error(`native-aes67-sender: channel ${c + 1}'s table differs from its signal at sample ${start + i}`);
        }
      }
    }
    this.framesPerPacket = F;
    const native = loadNative();
    this.sender = new native.NativeAes67Sender(o.network, {
      epochNs: o.linear.epochNs,
      ppm: o.linear.ppm,
      host: t.address,
      socket: { dscp: o.dscp ?? 34, ...(o.ttl !== undefined ? { ttl: o.ttl } : {}) },
      destination: `${o.destination}:${this.twin.port}`,
      sampleRate: o.sampleRate,
      channels,
      framesPerPacket: F,
      encoding: o.encoding,
      payloadType: this.twin.payloadType,
      ssrc: this.twin.ssrc,
      sequence: this.twin.firstSequence,
      mediaclkOffset: this.twin.mediaclkOffset,
      ...(o.sendDelayNs !== undefined ? { sendDelayNs: o.sendDelayNs } : {}),
      ...(o.startAtNs !== undefined ? { startAtNs: o.startAtNs } : {}),
      encoded: o.tables.map((t) => encodedTable(t, o.encoding)),
    });
    this.native = this.sender.nativeActor();
  }

  get ssrc(): number {
    return this.twin.ssrc;
  }

  get stream(): Aes67StreamDescription {
    return this.twin.stream;
  }

  /** Media time of the first packet's first sample (-1n before it started). */
  get firstSample(): bigint {
    return this.sender.stats().firstSample;
  }

  get packets(): number {
    return this.sender.stats().packets;
  }

  /** How it sends its payloads: from a cache of whole payloads, or of some channels' (partly), else rendered per packet; shared by how many senders (itself included). */
  get payloads(): { cached: boolean; partly: boolean; sharers: number } {
    const st = this.sender.stats();
    return { cached: st.payloadsCached, partly: st.payloadsPartlyCached, sharers: st.payloadSharers };
  }

  sdp(): string {
    return this.twin.sdp();
  }

  setRefclk(refclk: PtpRefclk): boolean {
    return this.twin.setRefclk(refclk);
  }

  poll(now: number): number {
    return this.sender.poll(now);
  }
}
