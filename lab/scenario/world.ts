// The world a scenario builds around the device, before the device exists: the virtual
// clock and network (a switch's base delay, the scenario's impairments through
// lab/impair), the emulated grandmasters with their scripted events, the senders on their
// own hosts stamping RTP from the grandmaster's timescale (with their own drift), and the
// device's side of discovery on the device's host:
// - aes67: the sender's SDP as a user would paste it into the device;
// - dante: the device's own SAP listener (EmulatedDut's, set as deviceSapSessions by the
//   runner) hears its SAP;
// - ravenna: the lab's RavennaSessionClient (DNS-SD over mDNS, then RTSP DESCRIBE and
//   ANNOUNCE over the VirtualStreamHub) on the device's host, whose answers the runner
//   hands to the device (EmulatedDut provideSdp), as the software DUT hands it those of
//   the engine's RtspTcpClient: the virtual network carries UDP only;
// - pcap: the SDP of the replayed stream, built from lab/analyze's reading of the capture.
// The device (EmulatedDut) is built by the runner at the start and starts its IO once it
// has every sender's stream (and, with grandmasters, its PTP lock).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadNative, type VirtualClock, type VirtualNetwork } from '../../native/index.ts';
import { ImpairmentModel } from '../impair/impairment.ts';
import { impairmentConfig, isImpaired } from './impairment-config.ts';
import { driftingTimescale } from '../impair/drift.ts';
import { virtualHost, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { MdnsBrowser } from '../net/mdns-browser.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';
import { RavennaSessionClient } from '../net/rtsp-client.ts';
import { VirtualStreamHub } from '../net/rtsp-stream.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { Aes67Sender, fnv1a, type Aes67SenderOptions } from '../peers/aes67-sender.ts';
import { NativeAes67Sender } from '../peers/native-aes67-sender.ts';
import type { NativeLinearTimescale } from '../../native/virtual-actors.ts';
import { DanteAes67Sender } from '../peers/dante-aes67-sender.ts';
import { NativeGrandmaster } from '../peers/native-grandmaster.ts';
import { Grandmaster, type GrandmasterEvent } from '../peers/grandmaster.ts';
import { RavennaSender } from '../peers/ravenna-sender.ts';
import { NetworkTap, type TrafficClass } from './network-tap.ts';
import { NetworkTime } from './network-time.ts';
import { ReplaySender, capturedAudioStream } from './replay-sender.ts';
import type { GrandmasterEventSpec, Scenario, SenderSpec } from './schema.ts';
import { channelSignals, interleaved, type ChannelSignal } from './sender-signal.ts';
import { ScriptedSender } from './sender-events.ts';
import { writtenAs } from './sdp-variants.ts';

/** Virtual time 0 is PTP time 2026-01-01T00:00:00 (TAI-ish), so RTP timestamps look like field ones. */
export const DEFAULT_PTP_EPOCH_NS = 1_767_225_600_000_000_000n;
export const DEVICE_ADDRESS = '10.67.2.1';
const RTP_PORT = 5004;

/** A scenario's bad combination found while building (names the key), as opposed to a lab bug. */
export class ScenarioSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioSetupError';
  }
}

export interface GrandmasterRuntime {
  name: string;
  /** In C++ (native-grandmaster.ts) where the network's time is linear (see `linear`). */
  gm: Grandmaster | NativeGrandmaster;
  address: string;
  /** EUI-64 with dashes, upper case (what Dante and RAVENNA write in ts-refclk). */
  eui64: string;
  powerEvents: { atNs: number; off: boolean }[];
  poweredOff(now: number): boolean;
}

export interface SenderRuntime {
  spec: SenderSpec;
  index: number;
  address: string;
  actor: TimedActor;
  rate: number;
  encoding: PcmEncoding;
  channels: number;
  framesPerPacket: number;
  /** Per channel: what it plays (pcap: what the replay sent, kind 'capture'). */
  signals?: ChannelSignal[];
  /** The SDP as the device gets it, once found (undefined until then). */
  sdp(): string | undefined;
  /** dante: the s= the device follows by SAP. */
  sessionName?: string;
  /** ravenna: the session's RTSP URL. */
  rtspUrl?: string;
  /** The sender's scripted events (reboot, session change), when it has any. */
  script?: ScriptedSender;
  /** Local time the SDP was first found. */
  foundAt?: number;
}

function gmEvent(e: GrandmasterEventSpec): GrandmasterEvent {
  const atNs = e.at;
  if ('step' in e) return { atNs, kind: 'step', ns: e.step };
  if ('ppm' in e) return { atNs, kind: 'frequency', ppm: e.ppm };
  if ('announce' in e) return { atNs, kind: e.announce === 'stop' ? 'stop-announcing' : 'resume-announcing' };
  if ('followUp' in e) return e.followUp === 'late' ? { atNs, kind: 'follow-up', mode: 'late', lateNs: (e as { by: number }).by } : { atNs, kind: 'follow-up', mode: e.followUp };
  if ('clockClass' in e) return { atNs, kind: 'clock-class', clockClass: e.clockClass };
  if ('priority1' in e) return { atNs, kind: 'priority', priority1: e.priority1 };
  if ('priority2' in e) return { atNs, kind: 'priority', priority2: e.priority2 };
  return { atNs, kind: e.power === 'off' ? 'silence' : 'resume' };
}

function eui64Of(clockIdentityHex: string): string {
  return clockIdentityHex.match(/../g)!.join('-').toUpperCase();
}

/** Frames per packet of `ptimeNs` at `rate`: whole frames (333 us at 48 kHz is 16). */
export function framesOf(ptimeNs: number, rate: number, what: string): number {
  const exact = (ptimeNs * rate) / 1e9;
  const frames = Math.round(exact);
  if (frames < 1 || Math.abs(exact - frames) > 0.02 * frames) {
    throw new ScenarioSetupError(`${what}: ${ptimeNs / 1e3} us is ${exact.toFixed(3)} frames at ${rate} Hz; give a packet time of whole frames`);
  }
  return frames;
}

/**
 * One period of a channel's signal as a table, rendered once per signal object: senders share
 * their tabulated sines (sender-signal.ts tabulateOnce), so 8 senders x 8 channels render 8
 * tables, not 64 (and NativeAes67Sender encodes each once).
 */
const periodTables = new WeakMap<object, Float32Array>();
function periodTable(signal: { render(start: number, frames: number, channels: number, out?: Float32Array): Float32Array }, period: number): Float32Array {
  let t = periodTables.get(signal);
  if (!t || t.length !== period) periodTables.set(signal, (t = signal.render(0, period, 1)));
  return t;
}

export class ScenarioWorld {
  readonly clock: VirtualClock;
  readonly network: VirtualNetwork;
  readonly hub: VirtualStreamHub;
  readonly epoch: bigint;
  readonly time: NetworkTime;
  readonly grandmasters: GrandmasterRuntime[] = [];
  readonly senders: SenderRuntime[] = [];
  readonly tap?: NetworkTap;
  readonly impairment?: ImpairmentModel;
  /** Every actor polled by runVirtual, in a fixed order, and what each is (for timing). */
  readonly actors: TimedActor[] = [];
  readonly actorKinds: string[] = [];
  readonly device: LabTransport;
  /** The SAP sessions the device's own listener holds (EmulatedDut sapSessions), once the runner built it. */
  deviceSapSessions?: () => { origin: string; sdp: string }[];
  /**
   * The network's time as linearTimescale's parameters, when it is one for the whole run
   * (at most one grandmaster, never steered) and the world runs native peers: then the
   * grandmaster (native-grandmaster.ts) and AES67 senders and receivers with nothing only
   * TypeScript does run in C++ (native-aes67-*.ts).
   */
  readonly linear?: NativeLinearTimescale;
  private browser?: MdnsBrowser;

  constructor(
    readonly scenario: Scenario,
    readonly file: string,
    readonly seed: number,
    /** nativePeers (default true): AES67 senders that fit run in C++ (native-aes67-sender.ts). */
    options: { captureFile?: string; nativePeers?: boolean } = {},
  ) {
    const native = loadNative();
    const s = scenario;
    // (The device's stand-in clock applies its hostDrift from virtual time 0, so every run,
    // drifting device or not, is on the field-like epoch.)
    this.epoch = DEFAULT_PTP_EPOCH_NS;
    this.clock = new native.VirtualClock(0);
    this.network = new native.VirtualNetwork(this.clock, s.network.baseDelay);
    this.hub = new VirtualStreamHub(() => this.clock.now(), s.network.baseDelay);
    this.device = virtualHost(this.network, this.clock, DEVICE_ADDRESS, 'device');

    const n = s.network;
    if (isImpaired(n)) this.impairment = new ImpairmentModel(impairmentConfig(n, this.seed));
    if (this.impairment || options.captureFile) {
      this.tap = new NetworkTap({
        network: this.network,
        deviceAddress: DEVICE_ADDRESS,
        impairment: this.impairment,
        traffic: (n.select?.traffic ?? ['media', 'ptp', 'discovery']) as TrafficClass[],
        path: n.select?.path ?? 'both',
        activeFrom: n.active?.from ?? 0,
        activeUntil: n.active?.until ?? Infinity,
        captureFile: options.captureFile,
        captureEpochNs: 1_767_225_600_000_000_000n,
      });
    }

    // Grandmasters: each on its own host, its PTP time the true timescale with its own
    // frequency offset, steered by its script.
    const linear = (options.nativePeers ?? true) && s.grandmasters.length <= 1 && s.grandmasters.every((g) => g.events.length === 0);
    s.grandmasters.forEach((g, i) => {
      const address = `10.67.0.${10 + i}`;
      const host = virtualHost(this.network, this.clock, address, `gm-${g.name}`);
      const gmOptions = {
        domain: g.domain,
        priority1: g.priority1,
        priority2: g.priority2,
        clockClass: g.clockClass,
        profile: g.profile,
        twoStep: g.twoStep,
        logSyncInterval: g.logSyncInterval,
        logAnnounceInterval: g.logAnnounceInterval,
        identitySeed: `aes67-lab gm ${g.name}`,
        timescale: linearTimescale(this.epoch, g.ppm),
        script: g.events.map(gmEvent),
      };
      // Never steered: the C++ twin sends the very same (native-grandmaster.test.ts).
      const gm = linear ? new NativeGrandmaster(host, { ...gmOptions, network: this.network, linear: { epochNs: this.epoch, ppm: g.ppm } }) : new Grandmaster(host, gmOptions);
      const powerEvents = g.events.filter((e) => 'power' in e).map((e) => ({ atNs: e.at, off: (e as { power: string }).power === 'off' }));
      this.grandmasters.push({
        name: g.name,
        gm,
        address,
        eui64: eui64Of(gm.portIdentity.clockIdentity),
        powerEvents,
        poweredOff: (now) => {
          let off = false;
          for (const p of powerEvents) if (p.atNs <= now) off = p.off;
          return off;
        },
      });
      this.add(gm, 'grandmasters');
    });
    this.time = new NetworkTime(linearTimescale(this.epoch), this.grandmasters);
    if (linear) this.linear = { epochNs: this.epoch, ppm: s.grandmasters[0]?.ppm ?? 0 };

    s.senders.forEach((spec, i) => {
      try {
        this.senders.push(this.buildSender(spec, i));
      } catch (e) {
        if (e instanceof ScenarioSetupError) throw e;
        // The peer refused its configuration (e.g. more channels than a datagram holds).
        throw new ScenarioSetupError(`senders[${i}] '${spec.name}': ${(e as Error).message}`);
      }
    });
  }

  add(actor: TimedActor, kind: string): void {
    this.actors.push(actor);
    this.actorKinds.push(kind);
  }

  /** The grandmaster a sender names in its SDP: the leading one at the start, or a made-up identity without one. */
  private get refclk(): { eui64: string; domain: number } | undefined {
    const g = this.grandmasters[0];
    return g ? { eui64: g.eui64, domain: this.scenario.grandmasters[0].domain } : undefined;
  }

  private buildSender(spec: SenderSpec, index: number): SenderRuntime {
    const address = spec.source ?? `10.67.1.${10 + index}`;
    const host = virtualHost(this.network, this.clock, address, `sender-${spec.name}`);
    const timescale: PtpTimescale = spec.drift !== 0 ? driftingTimescale(this.time, spec.drift) : this.time;
    const destination = spec.destination ?? `239.67.1.${1 + index}:${RTP_PORT}`;
    const [group, port] = destination.split(':');
    const channels = spec.channels ?? 2;
    const where = `senders[${index}] '${spec.name}'`;
    const refclk = this.refclk;
    const gmid = refclk?.eui64 ?? '00-1D-C1-FF-FE-00-00-01';

    if (spec.kind === 'pcap') {
      const file = path.resolve(path.dirname(this.file), spec.file!);
      if (!existsSync(file)) throw new ScenarioSetupError(`${where}: file ${spec.file} (${file}) does not exist`);
      let stream;
      try {
        stream = capturedAudioStream(file);
      } catch (e) {
        throw new ScenarioSetupError(`${where}: ${(e as Error).message}`);
      }
      const replay = new ReplaySender({ transport: host, timescale, file, stream, destination: group, port: Number(port), loops: spec.loop ?? 1, sessionName: spec.name });
      this.add(replay, 'senders');
      this.tap?.mediaIn.add(destination);
      const sdp = replay.sdp();
      const signals: ChannelSignal[] = Array.from({ length: stream.channels }, (_, c) => ({ kind: 'capture', signal: replay.audio.channel(c, stream.sampleRate) }));
      const runtime: SenderRuntime = { spec, index, address, actor: replay, rate: stream.sampleRate, encoding: stream.encoding, channels: stream.channels, framesPerPacket: stream.framesPerPacket, signals, sdp: () => sdp, foundAt: 0 };
      return runtime;
    }

    const rate = spec.kind === 'dante' ? 48_000 : (spec.rate ?? 48_000);
    const encoding: PcmEncoding = spec.kind === 'dante' ? 'L24' : (spec.encoding ?? 'L24');
    const framesPerPacket = spec.kind === 'dante' ? 48 : framesOf(spec.ptime ?? 1_000_000, rate, `${where} ptime`);
    const signals = channelSignals(spec, channels, rate, this.file);
    const signal = interleaved(signals, rate);
    const base = { spec, index, address, rate, encoding, channels, framesPerPacket, signals };

    if (spec.kind === 'aes67') {
      const options: Aes67SenderOptions = {
        transport: host,
        timescale,
        destination: group,
        port: Number(port),
        channels,
        sampleRate: rate,
        encoding,
        framesPerPacket,
        signal,
        mediaclkOffset: spec.mediaclkOffset ?? 0,
        sessionName: spec.name,
        ...(spec.initialSequence !== undefined ? { initialSequence: spec.initialSequence } : {}),
        ...(spec.reboots ? { reboots: spec.reboots.map((r) => ({ atNs: r.at, pauseNs: r.pause, ssrc: r.ssrc, ...(r.sequence !== undefined ? { sequence: r.sequence } : {}) })) } : {}),
        ...(refclk ? { ptpRefclk: { gmid: refclk.eui64, domain: refclk.domain } } : {}),
      };
      if (this.linear && spec.drift === 0 && !spec.reboots?.length && spec.events.length === 0 && signals.every((x) => x.kind === 'silence' || x.period !== undefined)) {
        // Nothing only the TypeScript sender does: the C++ one sends the same datagrams.
        const sender = new NativeAes67Sender({ ...options, network: this.network, linear: this.linear, tables: signals.map((x) => periodTable(x.signal, x.period ?? 1)) });
        this.add(sender, 'senders');
        this.tap?.mediaIn.add(destination);
        const sdp = writtenAs(sender.sdp(), spec.sdp);
        return { ...base, actor: sender, sdp: () => sdp, foundAt: 0 };
      }
      const sender = new Aes67Sender(options);
      const script = spec.events.length > 0 ? new ScriptedSender(sender, spec.events) : undefined;
      this.add(script ?? sender, 'senders');
      this.tap?.mediaIn.add(destination);
      const sdp = writtenAs(sender.sdp(), spec.sdp);
      return { ...base, actor: script ?? sender, sdp: () => sdp, foundAt: 0, ...(script ? { script } : {}) };
    }

    if (spec.kind === 'dante') {
      const sender = new DanteAes67Sender({
        transport: host,
        timescale,
        deviceName: spec.deviceName ?? spec.name.replace(/[^A-Za-z0-9-]/g, '-'),
        channels,
        signal,
        grandmaster: gmid,
        ...(spec.channelLabels ? { channelLabels: spec.channelLabels } : {}),
        ...(spec.sapInterval !== undefined ? { sapIntervalNs: spec.sapInterval } : {}),
        ...(spec.mediaclkOffset !== undefined ? { mediaclkOffset: spec.mediaclkOffset } : {}),
      });
      this.add(sender, 'senders');
      this.tap?.mediaIn.add(`${sender.destination}:5004`);
      // Found by the device's own SAP listener (EmulatedDut subscribes by the session name).
      return { ...base, actor: sender, sdp: () => this.deviceSapSessions?.().find((x) => x.origin === address)?.sdp, sessionName: sender.sessionName };
    }

    // ravenna
    const deviceName = spec.deviceName ?? `${spec.name} device`;
    const sender = new RavennaSender({
      transport: host,
      timescale,
      streams: this.hub.host(address),
      sessionName: spec.name,
      deviceName,
      destination: group,
      port: Number(port),
      channels,
      sampleRate: rate,
      encoding,
      framesPerPacket,
      grandmaster: gmid,
      ptpDomain: refclk?.domain ?? 0,
      mediaclkOffset: spec.mediaclkOffset ?? fnv1a(`mediaclk ${spec.name}`),
      signal,
    });
    const script = spec.events.length > 0 ? new ScriptedSender(sender, spec.events) : undefined;
    this.add(script ?? sender, 'senders');
    this.tap?.mediaIn.add(destination);
    for (const e of spec.events) if ('session' in e) this.tap?.mediaIn.add(e.session.destination);
    if (!this.browser) {
      this.browser = new MdnsBrowser({ transport: this.device });
      this.add(this.browser, 'discovery');
    }
    const session = new RavennaSessionClient({ browser: this.browser, streams: this.hub.host(DEVICE_ADDRESS), sessionName: spec.name });
    this.add(session, 'discovery');
    return { ...base, actor: script ?? sender, sdp: () => session.current(), rtspUrl: sender.url, ...(script ? { script } : {}) };
  }
}
