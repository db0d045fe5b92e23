// The virtual-time scenario runner: builds the world (world.ts) and the device
// (device-under-test.ts: EmulatedDut with its own PTP slave, SAP and subscriptions), waits
// until the device subscribed to every sender (and locked), starts its IO, puts the lab's
// receivers on its transmit streams, runs to the scenario's end in slices of
// virtual time (draining the device's stamp logs, sampling its playout buffers, following
// grandmaster changes), then measures (measure.ts) and judges every expectation into a
// report entry (lab/report). Everything it writes outside wallTimeS is a function of the
// scenario and its seed: a second run writes the same bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DutCounters, DutFoldTime } from '../../native/driver.ts';
import { VirtualRun, virtualHost, type TimedActor } from '../net/lab-transport.ts';
import { ptpTimeOfSample } from '../net/ptp-timescale.ts';
import { Aes67Receiver } from '../peers/aes67-receiver.ts';
import { DanteAes67Receiver } from '../peers/dante-aes67-receiver.ts';
import { NativeAes67Receiver } from '../peers/native-aes67-receiver.ts';
import { SdpError } from '../net/sdp.ts';
import { SapListener } from '../peers/sap-listener.ts';
import { scenarioVerdict } from '../report/judge.ts';
import type { ScenarioResult } from '../report/schema.ts';
import { projectRoot } from '../report/metadata.ts';
import { buildDevice, describeReceive, RUN_SLICE_NS as SLICE_NS, type DeviceUnderTest } from './device-under-test.ts';
import { DeviceLog } from './device-log.ts';
import { DevicePtp, lastGrandmasterEvent } from './device-ptp.ts';
import type { LoadedScenario } from './load.ts';
import { MAX_RECORD_S, measureScenario, SETTLE_NS } from './measure.ts';
import { BoundedSeries } from './bounded-series.ts';
import { DEVICE_ADDRESS, ScenarioSetupError, ScenarioWorld } from './world.ts';

/** Playout fill is sampled every this many slices (50 ms). */
const FILL_EVERY = 5;

export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Told the fraction of virtual time done, now and then. */
  onProgress?: (fraction: number) => void;
  /** Where a run's scratch files (the device's TX capture) go; removed afterwards. */
  scratchDir?: string;
}

export interface LabReceiver {
  name: string;
  kind: 'aes67' | 'dante';
  /** Index of the device TX stream it subscribes to. */
  stream: number;
  receiver: Aes67Receiver | DanteAes67Receiver | NativeAes67Receiver;
  /** The one whose audio the measurement reads for its stream. */
  measures: boolean;
}

export interface RecordOptions {
  nativePeers?: boolean;
  reference?: boolean;
}

/** Everything a finished run hands to measurement. */
export interface RunRecord {
  world: ScenarioWorld;
  device: DeviceUnderTest;
  deviceStartedAt: number;
  /** Stamps the device's logs dropped before its start (not measured, so not a gap). */
  stampLogDroppedBeforeStart: number;
  log: DeviceLog;
  counters: DutCounters;
  receivers: LabReceiver[];
  /** Playout fill (frames) per receive stream, sampled every FILL_EVERY slices after SETTLE_NS, by local ns. */
  fill: BoundedSeries[];
  captureFile?: string;
  discoveredAt: number;
  /** The device's own PTP slave, when the scenario has grandmasters. */
  ptp?: DevicePtp;
  /** What the device announced by SAP (its ts-refclk), heard by the lab. */
  announced: AnnouncedRefclk;
  /** When the device was handed a RAVENNA session's SDP (DESCRIBE, then each ANNOUNCE). */
  rtspLog: { at: number; stream: number }[];
  /** What the device reported (activations, clock steps, grandmaster changes). */
  deviceEvents: { at: number; what: string }[];
  /** How the device's stamps were folded: in C++ (EmulatedDut.startStampFold) or in TypeScript (DeviceLog.addStampColumns). */
  stampFold: 'native' | 'typescript';
}

/** The scenario's file as the report names it: relative to the project root when inside it. */
export function reportFileName(file: string): string {
  const rel = path.relative(projectRoot, path.resolve(file));
  return rel.startsWith('..') ? path.resolve(file) : rel.split(path.sep).join('/');
}

/** The suite a scenario belongs to: the folder under scenarios/ it lives in (smoke, impairments ...). */
function suiteOf(file: string): string | undefined {
  const parts = reportFileName(file).split('/');
  const i = parts.indexOf('scenarios');
  return i >= 0 && parts.length > i + 2 ? parts[i + 1] : undefined;
}

function runSlices(run: VirtualRun, w: ScenarioWorld, until: number, each: (now: number) => void, onProgress?: (f: number) => void, onStep?: (now: number) => void, resume = false): void {
  const total = w.scenario.duration;
  while (w.clock.now() < until) {
    const to = Math.min(until, w.clock.now() + SLICE_NS);
    run.until({ untilNs: to, resume, ...(onStep ? { onStep } : {}) });
    w.time.update(w.clock.now());
    each(w.clock.now());
    onProgress?.(w.clock.now() / total);
  }
}

/** Runs one scenario in virtual time and returns its report entry. */
export function runScenario(loaded: LoadedScenario, o: RunOptions = {}): ScenarioResult {
  const started = performance.now();
  const s = loaded.scenario;
  const seed = o.seed ?? s.seed;
  const base = {
    name: s.name,
    file: reportFileName(loaded.file),
    ...(suiteOf(loaded.file) ? { suite: suiteOf(loaded.file) } : {}),
    description: `${s.description.trim()} Proves: ${s.proves.trim()}`,
    seed,
    clock: 'virtual' as const,
    durationS: s.duration / 1e9,
  };
  if (s.clock === 'real') {
    return { ...base, verdict: 'error', error: 'clock: real: a real-time scenario runs only against a device on a rig (ci/hil/run --rig RIG FILE), not in virtual time', expectations: [], ptpOffset: [], playoutFill: [], latency: [], pitHistogram: [], glitches: [], figures: {} };
  }
  const wantsCapture = Object.keys(s.expect).some((k) => k.startsWith('tx.'));
  const scratch = wantsCapture ? mkdtempSync(path.join(o.scratchDir ?? os.tmpdir(), 'aes67-lab-run-')) : undefined;
  try {
    const record = recordScenario(loaded, seed, scratch ? path.join(scratch, 'device-tx.pcapng') : undefined, o.onProgress);
    const measured = measureScenario(record);
    const expectations = measured.expectations;
    const result: ScenarioResult = {
      ...base,
      wallTimeS: (performance.now() - started) / 1000,
      verdict: scenarioVerdict(expectations),
      expectations,
      ptpOffset: measured.ptpOffset,
      playoutFill: measured.playoutFill,
      latency: measured.latency,
      pitHistogram: measured.pitHistogram,
      glitches: measured.glitches,
      figures: measured.figures,
    };
    return result;
  } catch (e) {
    // One scenario that cannot run is an error in the report, not the end of the suite.
    const message = e instanceof ScenarioSetupError ? e.message : `the run failed: ${(e as Error).stack?.split('\n').slice(0, 3).join(' <- ') ?? String(e)}`;
    return {
      ...base,
      wallTimeS: (performance.now() - started) / 1000,
      verdict: 'error',
      error: message,
      expectations: [],
      ptpOffset: [],
      playoutFill: [],
      latency: [],
      pitHistogram: [],
      glitches: [],
      figures: {},
    };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs the scenario to its end and returns what measurement needs (runScenario measures it). */
export function recordScenario(
  loaded: LoadedScenario,
  seed: number,
  captureFile?: string,
  onProgress?: (f: number) => void,
  /** When given: wall milliseconds spent in each kind of actor and in the runner's bookkeeping. */
  timing?: Map<string, number>,
  /**
   * nativePeers false: every lab peer in TypeScript (bench/virtual-speed.ts compares).
   * reference: the runner's bookkeeping the straightforward way, kept to check the fast one
   * (fast-bookkeeping.test.ts): the device's stamps handed over and folded in TypeScript
   * (not in C++), its full PTP status read every slice (not the brief), its counters read
   * for the playout fill, the device polled at every step (not only when it has something
   * to do) and recomputing every TX stream's next due time at every poll, and every actor
   * polled at the start of each slice (not carried on from the previous slice).
   */
  options: RecordOptions = {},
): RunRecord {
  const s = loaded.scenario;
  const built = timing ? performance.now() : 0;
  const world = new ScenarioWorld(s, loaded.file, seed, { captureFile, ...(options.nativePeers !== undefined ? { nativePeers: options.nativePeers } : {}) });
  const reference = options.reference ?? false;
  const w = world;
  try {
    const timed = (actor: TimedActor, kind: string): TimedActor => {
      if (!timing) return actor;
      return {
        ...(actor.pollOn ? { pollOn: actor.pollOn } : {}),
        ...(actor.native ? { native: actor.native } : {}),
        poll(now) {
          const t = performance.now();
          const next = actor.poll(now);
          timing.set(kind, (timing.get(kind) ?? 0) + performance.now() - t);
          return next;
        },
      };
    };
    // 1. The device, from the start: its PTP slave, its SAP listener and announcer, its
    //    subscriptions; its IO starts once it has every stream (and its PTP lock).
    const device = buildDevice(s, w.senders, w.epoch, w.network, seed, reference);
    const dut = device.dut;
    timing?.set('building the world and the device', performance.now() - built);
    w.deviceSapSessions = () => dut.sapSessions();
    const ptp = device.ptp ? new DevicePtp(w, dut, lastGrandmasterEvent(s), reference) : undefined;
    // Polled in C++ (native/virtual-actors.ts), no JS call per step: when due, when its host
    // got datagrams, after a change (the reference way: at every step).
    const dutActor: TimedActor = { poll: () => dut.poll() ?? Infinity, native: dut.nativeActor(reference) };
    // RAVENNA: the lab's RTSP client on the device's host hands each DESCRIBE / ANNOUNCE answer to the device.
    const rtspGiven = new Map<number, string>();
    const rtspLog: { at: number; stream: number }[] = [];
    const rtspActor: TimedActor = {
      poll: (now) => {
        device.receive.forEach((r, i) => {
          if (r.via !== 'rtsp') return;
          const sdp = r.sender.sdp();
          if (sdp === undefined || sdp === rtspGiven.get(i)) return;
          rtspGiven.set(i, sdp);
          rtspLog.push({ at: now, stream: i });
          dut.provideSdp(r.id, sdp);
        });
        return Infinity;
      },
    };
    // The lab's SAP ears, from the start (the device announces from the start): one per
    // Dante receiver (a Dante device finds AES67 flows by SAP), and a monitor that follows
    // what the device announces (its ts-refclk through grandmaster changes).
    let hostIndex = 0;
    const monitor = new SapListener({ transport: virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, 'sap-monitor') });
    const danteEars = s.receivers.map((r) => {
      if (r.kind !== 'dante') return undefined;
      const host = virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, `receiver-${r.name}`);
      return { host, sap: new SapListener({ transport: host }) };
    });
    const earActors: TimedActor[] = [monitor, ...danteEars.flatMap((e) => (e ? [e.sap] : []))];
    const announced = new AnnouncedRefclk(monitor, device.transmit.map((t) => t.name));

    // (The RTSP hand-over is polled at every step: only where a receive goes by RTSP.)
    const rtspActors = device.receive.some((r) => r.via === 'rtsp') ? [rtspActor] : [];
    const actors = [...w.actors.map((a, i) => timed(a, w.actorKinds[i])), timed(dutActor, 'device (EmulatedDut)'), ...rtspActors, ...earActors.map((a) => timed(a, 'lab receivers'))];
    const kinds = [...w.actorKinds, 'device (EmulatedDut)', ...rtspActors.map(() => 'RAVENNA hand-over'), ...earActors.map(() => 'lab receivers')];
    const beforeStart = new VirtualRun(actors, w.network, w.clock);
    // With `timing`, the native actors' polls are timed in C++ (the wrappers above time the TypeScript ones).
    const addTime = (what: string, ms: number) => timing?.set(what, (timing.get(what) ?? 0) + ms);
    const nativeTimes = (run: VirtualRun, of: string[]) => {
      if (!timing) return;
      const t = run.timings();
      t.ns.forEach((ns, i) => ns > 0 && addTime(of[i], ns / 1e6));
      addTime('network deliveries', t.deliverNs / 1e6);
    };
    if (timing) beforeStart.setTimed(true);
    // 2. Discovery: the device subscribes to every sender's stream on its own.
    const sample = (now: number) => {
      ptp?.sample(now);
      announced.sample(now);
    };
    const markFound = (now: number) => {
      let st: ReturnType<typeof dut.streams> | undefined;
      for (const [i, r] of device.receive.entries()) {
        if (r.sender.foundAt !== undefined) continue;
        st ??= dut.streams();
        if (st.receive[i].active) r.sender.foundAt = now;
      }
    };
    // Before the start, what the device stamps is not measured: dropped every slice, so its
    // stamp log need only hold a slice's (device-under-test.ts packetLogCapacity).
    const sampleBeforeStart = (now: number) => {
      sample(now);
      dut.discardStamps();
    };
    markFound(0);
    const allFound = () => w.senders.every((x) => x.foundAt !== undefined);
    while (!allFound() && w.clock.now() < s.duration) {
      runSlices(beforeStart, w, Math.min(s.duration, w.clock.now() + SLICE_NS), sampleBeforeStart, onProgress, markFound, !reference);
    }
    const missing = device.receive.filter((r) => r.sender.foundAt === undefined);
    if (missing.length > 0) {
      const how = (k: string) => (k === 'dante' ? 'by its SAP listener' : k === 'ravenna' ? 'by DNS-SD and RTSP' : 'from its SDP');
      const st = dut.streams().receive;
      throw new ScenarioSetupError(
        `the device never subscribed to ${missing.map((r) => `sender '${r.sender.spec.name}' (${how(r.sender.spec.kind)}: ${st[device.receive.indexOf(r)].problem || 'not found'})`).join(', ')} within the scenario's ${s.duration / 1e9} s`,
      );
    }
    const discoveredAt = Math.max(0, ...w.senders.map((x) => x.foundAt ?? 0));
    // With grandmasters, the device's IO starts once its PTP slave locked (as an installer
    // routes audio once the device shows lock); its time line then starts on PTP time.
    // (Its lock read from the brief, not the full status: a score of strings a slice.)
    const brief = new Float64Array(6);
    const locked = () => dut.ptpBrief(brief) && brief[0] === 1;
    while (ptp && !locked() && w.clock.now() < s.duration) runSlices(beforeStart, w, Math.min(s.duration, w.clock.now() + SLICE_NS), sampleBeforeStart, onProgress, undefined, !reference);
    if (ptp && !dut.ptpStatus()!.locked) throw new ScenarioSetupError(`the device's PTP slave never locked within the scenario's ${s.duration / 1e9} s (${dut.ptpStatus()!.portState}, servo ${dut.ptpStatus()!.servoState})`);

    nativeTimes(beforeStart, kinds);

    // 3. What the device subscribed to, read back; its IO starts now.
    describeReceive(device, (r) => {
      const i = device.receive.indexOf(r);
      if (r.via === 'sdp') return r.sender.sdp();
      if (r.via === 'rtsp') return rtspGiven.get(i);
      return dut.sapSessions().find((x) => x.origin === r.sender.address)?.sdp;
    });
    device.transmit.forEach((t, i) => (t.sdp = dut.txSdp(i)));
    for (const t of device.transmit) w.tap?.mediaOut.add(t.config.destination);
    w.tap?.announceInCapture(device.transmit.map((t) => t.sdp), w.clock.now());
    const rate = device.rate;
    const log = new DeviceLog(device.receive.map((r) => r.config.framesPerPacket), device.transmit.length, deviceLocalTimeOf(device, w, s.device.hostDrift));
    // What came before the start is not measured: drained (each slice, and the last time
    // here), and what the rings dropped while the device waited for its senders and PTP
    // lock is not a gap in the measurement.
    dut.discardStamps();
    const startCounters = dut.counters();
    const stampLogDroppedBeforeStart = startCounters.packetLogDropped + startCounters.host.cycleLogDropped;
    dut.start();
    const deviceStartedAt = w.clock.now();
    // The stamps folded in C++ where the device's local time has a closed form there.
    const foldTime = reference ? undefined : deviceFoldTime(device, w, s.device.hostDrift);
    if (foldTime) dut.startStampFold({ framesPerPacket: device.receive.map((r) => r.config.framesPerPacket), transmitStreams: device.transmit.length, time: foldTime });
    const drainStamps = () => (foldTime ? dut.foldStamps() : log.addStampColumns(dut.stampColumns()));

    // 4. The lab's receivers on the device's streams: the scenario's, and one measuring
    //    aes67 receiver on every stream that has none.
    const receivers: LabReceiver[] = [];
    const streamIndex = (name: string) => device.transmit.findIndex((t) => t.name === name);
    // Audio is kept (and judged) for at most MAX_RECORD_S: 128 channels cost 25 MB a second.
    const recordSeconds = Math.min(MAX_RECORD_S, Math.ceil(s.duration / 1e9) + 1);
    // An aes67 lab receiver on a fixed SDP runs in C++ when the network's time is linear (world.linear).
    const aes67Receiver = (host: ReturnType<typeof virtualHost>, source: string): Aes67Receiver | NativeAes67Receiver => {
      if (w.linear) {
        try {
          return new NativeAes67Receiver({ network: w.network, transport: host, timescale: w.time, linear: w.linear, source, recordSeconds });
        } catch (e) {
          if (!(e instanceof SdpError)) throw e; // Aes67Receiver records it as its state
        }
      }
      return new Aes67Receiver({ transport: host, timescale: w.time, source, recordSeconds });
    };
    s.receivers.forEach((r, k) => {
      const stream = streamIndex(r.stream);
      if (r.kind === 'aes67') {
        const host = virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, `receiver-${r.name}`);
        const measures = !receivers.some((x) => x.measures && x.stream === stream);
        receivers.push({ name: r.name, kind: 'aes67', stream, measures, receiver: aes67Receiver(host, device.transmit[stream].sdp) });
      } else {
        // A Dante device subscribes to the flow it finds by SAP: the device's own announcement.
        const ear = danteEars[k]!;
        const name = device.transmit[stream].name;
        receivers.push({
          name: r.name,
          kind: 'dante',
          stream,
          measures: false,
          receiver: new DanteAes67Receiver({ transport: ear.host, timescale: w.time, source: ear.sap.sdpSource((x) => x.name === name && x.origin === DEVICE_ADDRESS), ...(r.prefix ? { multicastPrefix: r.prefix } : {}), recordSeconds }),
        });
      }
    });
    device.transmit.forEach((t, stream) => {
      if (receivers.some((x) => x.measures && x.stream === stream)) return;
      const host = virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, `measure-${t.name}`);
      receivers.push({ name: `lab ${t.name}`, kind: 'aes67', stream, measures: true, receiver: aes67Receiver(host, t.sdp) });
    });

    // 5. To the end, in slices.
    const all = [...actors, ...receivers.map((r) => timed(r.receiver, 'lab receivers'))];
    const fill = device.receive.map(() => new BoundedSeries());
    const fills = new Float64Array(device.receive.length);
    let slices = 0;
    const main = new VirtualRun(all, w.network, w.clock);
    if (timing) main.setTimed(true);
    runSlices(
      main,
      w,
      s.duration,
      (now) => {
        const t = timing ? performance.now() : 0;
        sample(now);
        drainStamps();
        // The fill is sampled every FILL_EVERY slices (from the counters, ~100 us a call, in the reference way).
        if (now - deviceStartedAt >= SETTLE_NS && ++slices % FILL_EVERY === 0) {
          if (reference) {
            dut.counters().receivers.forEach((r, i) => fill[i].add(now, r.playout.fillFrames));
          } else {
            dut.playoutFills(fills);
            fills.forEach((f, i) => fill[i].add(now, f));
          }
        }
        if (timing) timing.set('runner bookkeeping (stamps, counters, PTP samples)', (timing.get('runner bookkeeping (stamps, counters, PTP samples)') ?? 0) + performance.now() - t);
      },
      onProgress,
      undefined,
      !reference,
    );
    nativeTimes(main, [...kinds, ...receivers.map(() => 'lab receivers')]);
    drainStamps();
    if (foldTime) log.absorb(dut.stampFold());
    const counters = dut.counters();
    w.impairment?.flush();
    w.tap?.close();
    ptp?.finish();
    const events = dut.events();
    dut.stop();
    return { world: w, device, deviceStartedAt, stampLogDroppedBeforeStart, log, counters, receivers, fill, captureFile, discoveredAt, ptp, announced, rtspLog, deviceEvents: events, stampFold: foldTime ? 'native' : 'typescript' };
  } catch (e) {
    w.tap?.close();
    throw e;
  }
}

/** Local time of a media sample on the device's clock: its PTP slave's (locked to the leading grandmaster), or the stand-in's. */
function deviceLocalTimeOf(device: DeviceUnderTest, w: ScenarioWorld, ppm: number): (m: number) => number {
  const rate = device.rate;
  if (device.ptp) {
    const of = (m: number) => w.time.localTimeOf(ptpTimeOfSample(BigInt(m), rate));
    return w.linear ? remembered(of) : of;
  }
  // The stand-in: PTP time at local t is epoch + t x (1 + ppm/1e6) (native/src/driver_binding.cc StandInMediaClock).
  return ppm === 0
    ? (m: number) => Number(((BigInt(m) * 1_000_000_000n + BigInt(rate) - 1n) / BigInt(rate)) - w.epoch)
    : (m: number) => Math.ceil(Number(((BigInt(m) * 1_000_000_000n + BigInt(rate) - 1n) / BigInt(rate)) - w.epoch) / (1 + ppm / 1e6));
}

/** deviceLocalTimeOf's time line as EmulatedDut's stamp fold computes it, where it can: a linear network time or the stand-in. */
function deviceFoldTime(device: DeviceUnderTest, w: ScenarioWorld, ppm: number): DutFoldTime | undefined {
  if (device.ptp) return w.linear ? { kind: 'linear-ptp', epochNs: w.linear.epochNs, ppm: w.linear.ppm, rate: device.rate } : undefined;
  return { kind: 'stand-in', epochNs: w.epoch, ppm, rate: device.rate };
}

/**
 * `f` with its recent answers kept: the device's stamps ask for the same media times over and
 * over (every stream's RX and TX stamps of one cycle), and each answer costs BigInt
 * arithmetic. Only for a function that never changes its answer (a linear network time).
 */
function remembered(f: (m: number) => number): (m: number) => number {
  const known = new Map<number, number>();
  return (m) => {
    let t = known.get(m);
    if (t === undefined) {
      if (known.size >= 4096) known.clear();
      known.set(m, (t = f(m)));
    }
    return t;
  };
}

/**
 * What the device's SAP announcements say, heard by a lab SAP listener: for each TX stream,
 * when an announcement first named each grandmaster in its ts-refclk (FIELD-NOTES: the
 * grandmaster identity in an SDP's ts-refclk must be the current one).
 */
export class AnnouncedRefclk {
  /** Per TX stream: [local ns heard, EUI-64 named (upper case, dashes)]. */
  readonly heard: { at: number; gmid: string }[][];
  constructor(
    private readonly sap: SapListener,
    private readonly names: string[],
  ) {
    this.heard = names.map(() => []);
  }

  /** Per TX stream: the last SDP read and the grandmaster it named (read again only when the SDP changes). */
  private readonly lastSdp: (string | undefined)[] = [];
  private readonly lastGmid: (string | undefined)[] = [];
  /** The listener's revision last read: while it stands, a sample finds what the last one did. */
  private seen = -1;

  sample(now: number): void {
    // Every slice (1000 a 10 s run); the device announces every few seconds.
    if (this.sap.revision === this.seen) return;
    this.seen = this.sap.revision;
    this.names.forEach((name, i) => {
      const x = this.sap.find((z) => z.name === name && z.origin === DEVICE_ADDRESS);
      if (!x) return;
      let gmid = this.lastGmid[i];
      if (x.sdp !== this.lastSdp[i]) {
        const m = /a=ts-refclk:ptp=IEEE1588-2008:([0-9A-Fa-f-]{23})/.exec(x.sdp);
        gmid = this.lastGmid[i] = m ? m[1].toUpperCase() : undefined;
        this.lastSdp[i] = x.sdp;
      }
      if (gmid === undefined) return;
      if (this.heard[i].at(-1)?.gmid !== gmid) this.heard[i].push({ at: now, gmid });
    });
  }
}
