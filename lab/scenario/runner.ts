// The virtual-time scenario runner: builds the world (world.ts), waits for the device's
// discovery of every sender, builds and starts the device (device-under-test.ts), puts
// the lab's receivers on its transmit streams, runs to the scenario's end in slices of
// virtual time (draining the device's stamp logs, sampling its playout buffers, following
// grandmaster changes), then measures (measure.ts) and judges every expectation into a
// report entry (lab/report). Everything it writes outside wallTimeS is a function of the
// scenario and its seed: a second run writes the same bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNative } from '../../native/index.ts';
import type { DutCounters } from '../../native/driver.ts';
import { runVirtual, virtualHost, type TimedActor } from '../net/lab-transport.ts';
import { SAP_GROUP_DANTE, SAP_PORT } from '../net/sap.ts';
import { Aes67Receiver } from '../peers/aes67-receiver.ts';
import { DanteAes67Receiver } from '../peers/dante-aes67-receiver.ts';
import { SapListener } from '../peers/sap-listener.ts';
import { scenarioVerdict } from '../report/judge.ts';
import type { ScenarioResult } from '../report/schema.ts';
import { projectRoot } from '../report/metadata.ts';
import { buildDevice, type DeviceUnderTest } from './device-under-test.ts';
import { DeviceLog } from './device-log.ts';
import { DevicePtp } from './device-ptp.ts';
import type { LoadedScenario } from './load.ts';
import { MAX_RECORD_S, measureScenario, SETTLE_NS } from './measure.ts';
import { DEVICE_ADDRESS, ScenarioSetupError, ScenarioWorld } from './world.ts';

/** Virtual time between the runner's bookkeeping steps (stamp drains, fill samples, progress). */
const SLICE_NS = 10_000_000;
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
  receiver: Aes67Receiver | DanteAes67Receiver;
  /** The one whose audio the measurement reads for its stream. */
  measures: boolean;
}

/** Everything a finished run hands to measurement. */
export interface RunRecord {
  world: ScenarioWorld;
  device: DeviceUnderTest;
  deviceStartedAt: number;
  log: DeviceLog;
  counters: DutCounters;
  receivers: LabReceiver[];
  /** Playout fill per receive stream, sampled every slice after SETTLE_NS: [local ns, frames]. */
  fill: { t: number; frames: number }[][];
  captureFile?: string;
  discoveredAt: number;
  /** The engine's PTP slave on the device's host, when the scenario has grandmasters. */
  ptp?: DevicePtp;
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

function runSlices(actors: TimedActor[], w: ScenarioWorld, until: number, each: (now: number) => void, onProgress?: (f: number) => void, onStep?: (now: number) => void): void {
  const total = w.scenario.duration;
  while (w.clock.now() < until) {
    const to = Math.min(until, w.clock.now() + SLICE_NS);
    runVirtual(actors, w.network, w.clock, { untilNs: to, ...(onStep ? { onStep } : {}) });
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
): RunRecord {
  const s = loaded.scenario;
  const world = new ScenarioWorld(s, loaded.file, seed, { captureFile });
  const w = world;
  try {
    // The engine's PTP slave on the device's host, from the start, following the grandmasters.
    const ptp = s.grandmasters.length > 0 ? new DevicePtp(w) : undefined;
    if (ptp) w.add(ptp.actor, 'PTP slave (engine)');

    const timed = (actor: TimedActor, kind: string): TimedActor => {
      if (!timing) return actor;
      return {
        ...(actor.pollOn ? { pollOn: actor.pollOn } : {}),
        poll(now) {
          const t = performance.now();
          const next = actor.poll(now);
          timing.set(kind, (timing.get(kind) ?? 0) + performance.now() - t);
          return next;
        },
      };
    };
    // 1. Discovery: the device's side finds every sender's SDP.
    const actors = w.actors.map((a, i) => timed(a, w.actorKinds[i]));
    const found = () => w.senders.every((x) => x.sdp() !== undefined);
    // Checked after every step, so discovery.time is exact, not rounded to a slice.
    const markFound = (now: number) => {
      for (const x of w.senders) if (x.foundAt === undefined && x.sdp() !== undefined) x.foundAt = now;
    };
    while (!found() && w.clock.now() < s.duration) {
      runSlices(actors, w, Math.min(s.duration, w.clock.now() + SLICE_NS), (now) => ptp?.sample(now), onProgress, markFound);
    }
    for (const x of w.senders) if (x.foundAt === undefined && x.sdp() !== undefined) x.foundAt = w.clock.now();
    const missing = w.senders.filter((x) => x.sdp() === undefined);
    if (missing.length > 0) {
      const how = (k: string) => (k === 'dante' ? "by the engine's SAP listener" : 'by DNS-SD and RTSP');
      throw new ScenarioSetupError(`the device never found ${missing.map((x) => `sender '${x.spec.name}' (${how(x.spec.kind)})`).join(', ')} within the scenario's ${s.duration / 1e9} s`);
    }
    const discoveredAt = Math.max(0, ...w.senders.map((x) => x.foundAt ?? 0));

    // 2. The device, built once from what it found, started now.
    const device = buildDevice(s, w.senders, w.epoch, w.network);
    for (const t of device.transmit) w.tap?.mediaOut.add(t.config.destination);
    w.tap?.announceInCapture(device.transmit.map((t) => t.sdp), w.clock.now());
    const dut = device.dut;
    const rate = device.rate;
    const ppm = s.device.hostDrift;
    // LocalMediaClock(rate, -epoch, ppm).localTimeOf, in the doubles it stays exact in.
    const localTimeOf =
      ppm === 0
        ? (m: number) => Number(((BigInt(m) * 1_000_000_000n + BigInt(rate) - 1n) / BigInt(rate)) - w.epoch)
        : (m: number) => Math.ceil((m / (rate * (1 + ppm / 1e6))) * 1e9) - Number(w.epoch);
    const log = new DeviceLog(device.receive.map((r) => r.config.framesPerPacket), device.transmit.length, localTimeOf);
    dut.start();
    const deviceStartedAt = w.clock.now();
    const dutActor: TimedActor = { poll: () => dut.poll() ?? Infinity };

    // 3. The lab's receivers on the device's streams: the scenario's, and one measuring
    //    aes67 receiver on every stream that has none.
    const native = loadNative();
    const receivers: LabReceiver[] = [];
    const receiverActors: TimedActor[] = [];
    let hostIndex = 0;
    const streamIndex = (name: string) => device.transmit.findIndex((t) => t.name === name);
    // Audio is kept (and judged) for at most MAX_RECORD_S: 128 channels cost 25 MB a second.
    const recordSeconds = Math.min(MAX_RECORD_S, Math.ceil(s.duration / 1e9) + 1);
    let announcer: ReturnType<typeof makeAnnouncer> | undefined;
    function makeAnnouncer() {
      const a = new native.SapAnnouncer({ network: w.network, host: DEVICE_ADDRESS }, { group: `${SAP_GROUP_DANTE}:${SAP_PORT}`, intervalNs: 1e9 });
      for (const t of device.transmit) a.add(t.sdp);
      receiverActors.push({ poll: () => a.poll() ?? Infinity });
      return a;
    }
    for (const r of s.receivers) {
      const stream = streamIndex(r.stream);
      const host = virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, `receiver-${r.name}`);
      if (r.kind === 'aes67') {
        const measures = !receivers.some((x) => x.measures && x.stream === stream);
        receivers.push({ name: r.name, kind: 'aes67', stream, measures, receiver: new Aes67Receiver({ transport: host, timescale: w.time, source: device.transmit[stream].sdp, recordSeconds }) });
      } else {
        // A Dante device finds AES67 flows by SAP: the device's TX SDPs announced by the engine's announcer.
        announcer ??= makeAnnouncer();
        const sap = new SapListener({ transport: host });
        receiverActors.push(sap);
        const name = device.transmit[stream].name;
        receivers.push({
          name: r.name,
          kind: 'dante',
          stream,
          measures: false,
          receiver: new DanteAes67Receiver({ transport: host, timescale: w.time, source: sap.sdpSource((x) => x.name === name && x.origin === DEVICE_ADDRESS), ...(r.prefix ? { multicastPrefix: r.prefix } : {}), recordSeconds }),
        });
      }
    }
    device.transmit.forEach((t, stream) => {
      if (receivers.some((x) => x.measures && x.stream === stream)) return;
      const host = virtualHost(w.network, w.clock, `10.67.3.${10 + hostIndex++}`, `measure-${t.name}`);
      receivers.push({ name: `lab ${t.name}`, kind: 'aes67', stream, measures: true, receiver: new Aes67Receiver({ transport: host, timescale: w.time, source: t.sdp, recordSeconds }) });
    });
    receiverActors.push(...receivers.map((r) => r.receiver));

    // 4. To the end, in slices.
    const all = [...actors, timed(dutActor, 'device (EmulatedDut)'), ...receiverActors.map((a) => timed(a, 'lab receivers'))];
    const fill: { t: number; frames: number }[][] = device.receive.map(() => []);
    let counters = dut.counters();
    let slices = 0;
    runSlices(
      all,
      w,
      s.duration,
      (now) => {
        const t = timing ? performance.now() : 0;
        ptp?.sample(now);
        log.addSlice(dut.packetStamps(), dut.cycleStamps());
        // Counters cost ~100 us a call: the fill is sampled every FILL_EVERY slices.
        if (now - deviceStartedAt >= SETTLE_NS && ++slices % FILL_EVERY === 0) {
          counters = dut.counters();
          counters.receivers.forEach((r, i) => fill[i].push({ t: now, frames: r.playout.fillFrames }));
        }
        if (timing) timing.set('runner bookkeeping (stamps, counters, PTP samples)', (timing.get('runner bookkeeping (stamps, counters, PTP samples)') ?? 0) + performance.now() - t);
      },
      onProgress,
    );
    log.addSlice(dut.packetStamps(), dut.cycleStamps());
    counters = dut.counters();
    w.impairment?.flush();
    w.tap?.close();
    dut.stop();
    ptp?.finish();
    return { world: w, device, deviceStartedAt, log, counters, receivers, fill, captureFile, discoveredAt, ptp };
  } catch (e) {
    w.tap?.close();
    throw e;
  }
}
