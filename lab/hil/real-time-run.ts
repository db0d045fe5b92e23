// One scenario in real time on a rig: the lab's emulated grandmaster and senders on the
// lab's interface (lab/peers on udpTransport, polled like runRealTime but never spinning):
// AES67 senders, whose SDP the runner gives the DUT; Dante-style senders (SAP to
// 239.255.255.255, group in the rig's prefix), which the DUT's own SAP listener finds by
// name; RAVENNA-style sessions (mDNS + RTSP), which the engine's DNS-SD browser resolves to
// the RTSP URL the DUT then DESCRIBEs (and follows through ANNOUNCE). With network
// impairments, the senders' media goes through the UDP relay (lab/impair/udp-relay.ts) whose
// LossLedger is paired with the glitches heard (loss-pairing.ts). The DUT is configured through
// its control endpoint (an RX stream per sender, a TX stream per
// returned stream; the loopback is the rig's wiring), a pcapng capture of the lab
// interface (lab/net/pcap/live-capture), the DUT's TX received by the lab's receivers in
// overlapping windows judged by a worker thread (window-analysis.ts), the DUT's status
// polled (PTP lock, playout fill, counters) and its memory read from /proc when the rig
// names its process. The result is a report entry like the virtual runner's (clock: real).
// Every run also judges lab.pacing (the lab host kept up) and, with a DUT process, dut.rssGrowth.
//
// Time line: the grandmaster and senders start; the DUT gets its streams; the runner waits
// for the DUT's PTP lock (at most LOCK_WAIT_S) and SETTLE_S more; then the scenario's
// duration is measured. Before lock the DUT's media clock is not the grandmaster's, so
// audio from then is not judged.
import { readFileSync, mkdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { DutClient, type DutStatusJson } from '../dut/dut-client.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { udpTransport, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { raiseThreadsToFifo, setRealTimePriority } from '../net/real-time-priority.ts';
import { dumpcapAvailable, startDumpcap } from '../net/pcap/dumpcap.ts';
import { describeAes67 } from '../net/sdp.ts';
import { captureLive } from '../net/pcap/live-capture.ts';
import { openStreamSocket, RtpSubscription } from '../peers/rtp-subscription.ts';
import { Aes67Sender, fnv1a } from '../peers/aes67-sender.ts';
import { DanteAes67Sender } from '../peers/dante-aes67-sender.ts';
import { RavennaSender } from '../peers/ravenna-sender.ts';
import { ImpairmentModel } from '../impair/impairment.ts';
import { LossLedger } from '../impair/loss-ledger.ts';
import { UdpRelay } from '../impair/udp-relay.ts';
import { tcpStreams } from '../net/rtsp-stream.ts';
import { mediaTimeOf } from '../net/ptp-timescale.ts';
import { loadNative } from '../../native/index.ts';
import { Grandmaster } from '../peers/grandmaster.ts';
import { systemTimescale } from '../peers/system-timescale.ts';
import { followGrandmasterTime } from './grandmaster-time.ts';
import { pitHistogramFromAnalysis } from '../report/from-measure.ts';
import { judge, scenarioVerdict } from '../report/judge.ts';
import type { Expectation, GlitchMark, Histogram, LatencySamples, ScenarioResult, Series } from '../report/schema.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import { impairmentConfig } from '../scenario/impairment-config.ts';
import { limitOf, METRICS } from '../scenario/metrics.ts';
import { reportFileName } from '../scenario/runner.ts';
import { channelSignals, interleaved } from '../scenario/sender-signal.ts';
import { framesOf } from '../scenario/world.ts';
import { lostMedia, pairLossWithGlitches, type MediaGap } from './loss-pairing.ts';
import { HilRefusal, planScenario, type HilPlan, type PlannedSender } from './plan.ts';
import { relayedTransport } from './relayed-transport.ts';
import type { LoadedRig } from './rig.ts';
import { streamsStoppedAtEnd, type WindowResult } from './window-analysis.ts';
import { WindowPool, type WindowHandoff } from './window-pool.ts';
import { LoopStallMonitor, type StallSummary } from './loop-stalls.ts';
import { dutLockOf, LOCK_POLL_MS, ptpCounterDeltas, SPAN_COUNTERS } from './ptp-lock.ts';

/** Longest wait for the DUT's PTP lock before measuring anyway (ptp.lockTime then errors). */
export const LOCK_WAIT_S = 30;
/** After lock, before the first judged window. */
export const SETTLE_S = 1;
/** Each window of returned audio, and how much the next one overlaps it. */
export const WINDOW_S = 5;
export const OVERLAP_S = 0.5;
/** Longest wait for the DUT to find a sender by SAP or to describe it by RTSP (Dante announces at start, then every sapInterval). */
export const FIND_WAIT_S = 15;
/** Longest wait for the engine's DNS-SD browser to resolve a RAVENNA session on the lab interface. */
export const DNSSD_WAIT_S = 10;
/** RTSP port of the first RAVENNA sender (the next ones count up): its SRV record says so, so any free port serves. */
export const RAVENNA_RTSP_PORT = 8554;
const STATUS_EVERY_MS = 500;
/** The longest the lab listens to an external grandmaster's Sync before it sends (16 at the media profile's 8/s take 2 s). */
const EXTERNAL_GM_LISTEN_S = 10;
const RSS_EVERY_S = 10;
/**
 * A returned stream whose newest audio is this much older than the media clock when its last
 * window closes stopped inside that window (a stop in the last window leaves no empty window
 * after it). Far above the DUT's send delay; a lab stall this long already fails lab.pacing.
 */
export const STOPPED_AFTER_S = 0.5;

type Value = number | string | boolean | null;
const round = (x: number, digits = 6) => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the lab's actors in real time like runRealTime (lab/net/lab-transport.ts), but
 * sleeps on a timer (Node's ~1 ms) instead of spinning on setImmediate while a packet is
 * due within the millisecond: on a 2-core host the spin takes a core from the DUT it
 * measures. Due times are absolute, so packets leave in small bursts per tick and none is
 * skipped.
 */
async function pollRealTime(actors: TimedActor[], transport: LabTransport, signal: AbortSignal, pacing: LabPacing): Promise<void> {
  const due = actors.map(() => -Infinity);
  let last = transport.now();
  let lastMs = performance.now();
  while (!signal.aborted) {
    const now = transport.now();
    const nowMs = performance.now();
    if (pacing.measuring && now - last > STALL_NS) {
      pacing.stalls++;
      pacing.stalledNs += now - last;
    }
    if (pacing.measuring) pacing.monitor.turn(lastMs, nowMs);
    last = now;
    lastMs = nowMs;
    let next = Infinity;
    for (let i = 0; i < actors.length; i++) {
      // How late the lab itself was for what it had to send: its own event loop's stall.
      if (pacing.measuring && due[i] <= now && Number.isFinite(due[i])) pacing.maxLatenessNs = Math.max(pacing.maxLatenessNs, now - due[i]);
      due[i] = actors[i].poll(now);
      next = Math.min(next, due[i]);
    }
    if (pacing.measuring) pacing.monitor.noteWork('senders', nowMs, performance.now());
    // Never setImmediate: an actor that keeps saying "now" would make this a spin.
    await new Promise((r) => setTimeout(r, next <= transport.now() ? 0 : 1));
  }
}

/** The lab's own timing over the measured span (pollRealTime fills it). */
interface LabPacing {
  measuring: boolean;
  maxLatenessNs: number;
  /** Gaps between two turns of the poll loop longer than STALL_NS, and their total. */
  stalls: number;
  stalledNs: number;
  /** What each stall was (GC, the runner's own labelled work, the host): lab/hil/loop-stalls.ts. */
  monitor: LoopStallMonitor;
}

/** A turn of the lab's poll loop this much later than the last is a stall of the lab host. */
const STALL_NS = 20_000_000;

/** VmRSS of a process in KiB (Linux /proc), or an error naming why not. */
export function readRssKiB(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (e) {
    throw new Error(`cannot read /proc/${pid}/status (is the DUT process ${pid} running on this machine?): ${(e as Error).message}`);
  }
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(m[1]);
}

/** "001dc1.fffe.123456" or "00-1D-C1-FF-FE-12-34-56" -> "001dc1fffe123456". */
function clockHex(id: string): string {
  return id.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

export interface HilRunOptions {
  /** Where the pcapng goes (the run's report folder). */
  outDir: string;
  log?: (line: string) => void;
  /** SCHED_FIFO priority for the lab's threads over the measured span (the CLI's --fifo). */
  fifo?: number;
}

/** A lab sender of any kind, as the runner drives it. */
interface LabSender {
  plan: PlannedSender;
  actor: TimedActor;
  /** Its RTP sender (a RAVENNA session change replaces it). */
  rtp: () => Aes67Sender;
  /** "group:port" its media goes to. */
  destination: string;
  framesPerPacket: number;
  /** The session name the DUT finds it by (SAP s=, DNS-SD instance). */
  name: string;
  sdp: () => string;
  ravenna?: RavennaSender;
}

/**
 * A RAVENNA session's RTSP URL as the network tells it: the engine's own DNS-SD browser
 * (engine/mdns, through the addon; another implementation than the lab's responder) on
 * the lab interface, browsing _ravenna_session._sub._rtsp._tcp for the session name; the
 * URL is built from the SRV port and A address it resolves (the DUT itself resolves no
 * DNS-SD name: it is given the URL, as aes67-dut's "rtsp" key takes it).
 */
async function resolveRavenna(name: string, expectedUrl: string, iface: string, figures: Record<string, Value>, transport: LabTransport): Promise<string> {
  const browser = new (loadNative().DnsSdBrowser)({ interfaceName: iface }, { interfaceName: iface });
  const t0 = transport.now();
  try {
    while (transport.now() - t0 < DNSSD_WAIT_S * 1e9) {
      browser.poll();
      const i = browser.find(name);
      if (i?.address && i.port) {
        const url = `rtsp://${i.address}:${i.port}/by-name/${encodeURIComponent(name)}`;
        figures[`discovery.${name}.dnssdAfterMs`] = round((transport.now() - t0) / 1e6, 0);
        figures[`discovery.${name}.dnssd`] = `${i.fqdn} -> ${i.host ?? '?'} ${i.address}:${i.port} (engine DNS-SD browser, ${browser.stats().queriesSent} queries)`;
        if (url !== expectedUrl) throw new Error(`DNS-SD resolved the RAVENNA session "${name}" to ${url}, but the lab's sender serves ${expectedUrl}: another device on the network announces the same session name`);
        return url;
      }
      await sleep(20);
    }
    throw new Error(`the RAVENNA session "${name}" was not resolved by DNS-SD on ${iface} within ${DNSSD_WAIT_S} s (engine browser: ${JSON.stringify(browser.stats())}); is multicast DNS (224.0.0.251:5353) reaching the interface?`);
  } finally {
    browser.close();
  }
}

/** "EAGAIN (11)" for errno 11: what a DUT's socket said when a send failed. */
function errnoName(errno: number): string {
  const name = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0];
  return `${name ?? 'errno'} (${errno})`;
}

interface Monitor {
  stream: number;
  window: number;
  /** Fed from the stream's one socket (returnSockets), as every window of that stream is. */
  sub: RtpSubscription;
  closesAt: number;
}

/** Runs one scenario on the rig; a refused scenario throws HilRefusal before anything starts. */
export async function runOnRig(loaded: LoadedScenario, loadedRig: LoadedRig, o: HilRunOptions): Promise<ScenarioResult> {
  const s = loaded.scenario;
  const rig = loadedRig.rig;
  const log = o.log ?? (() => {});
  const plan: HilPlan = planScenario(s, rig);
  if (plan.refusals.length > 0) throw new HilRefusal(loaded.file, plan.refusals);
  if (rig.dut.kind === 'macos-driver') {
    // The macOS driver's control is the same HTTP API (lab/dut/dut-client.ts) that a future
    // control app beside the driver would serve; no such app exists yet, so the runner
    // talks to whatever serves rig.dut.control and says so when nothing does.
    log('dut kind macos-driver: the runner speaks the software DUT\'s control API (GET /status, POST /streams); a macOS control app serving it is not written yet');
  }
  const started = performance.now();
  const base = {
    name: s.name,
    file: reportFileName(loaded.file),
    suite: 'hil',
    description: `${s.description.trim()} Proves: ${s.proves.trim()}`,
    seed: s.seed,
    clock: 'real' as const,
    durationS: s.duration / 1e9,
  };
  const figures: Record<string, Value> = {};
  const values = new Map<string, Value>();
  const why = new Map<string, string>();
  const notMeasured = (name: string, reason: string) => {
    values.set(name, null);
    why.set(name, reason);
  };
  figures['rig.name'] = rig.name;
  figures['rig.dut'] = `${rig.dut.kind} at ${rig.dut.address}, control ${rig.dut.control}`;
  figures['rig.lab'] = `${rig.lab.interface}${rig.lab.netns ? ` (netns ${rig.lab.netns})` : ''} ${rig.lab.address}`;
  figures['rig.loopback'] = Object.entries(rig.loopback).map(([i, out]) => `${i}->${out}`).join(' ');

  const client = new DutClient(rig.dut.control, 5_000);
  const cleanup: (() => Promise<void> | void)[] = [];
  const actors: TimedActor[] = [];
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let captureDone: Promise<unknown> | undefined;
  let pool: WindowPool | undefined;
  try {
    // ---- the DUT: reachable, at the scenario's rate, with room for the plan's channels ----
    let status: DutStatusJson;
    try {
      status = await client.status();
    } catch (e) {
      throw new Error(`the DUT's control endpoint ${rig.dut.control} does not answer (${(e as Error).message}); is the DUT running, and is dut.control in the rig its address?`);
    }
    if (status.device.sampleRate !== s.device.rate) throw new Error(`the DUT runs at ${status.device.sampleRate} Hz and the scenario's device at ${s.device.rate} Hz: set device.rate in the scenario, or the DUT's rate, to match`);
    const maxIn = Math.max(0, ...plan.senders.flatMap((x) => x.inputs));
    const maxOut = Math.max(0, ...plan.transmit.flatMap((t) => t.outputs));
    if (maxIn > status.device.inputChannels) throw new Error(`the plan needs DUT input ${maxIn}; the DUT has ${status.device.inputChannels} inputs`);
    if (maxOut > status.device.outputChannels) throw new Error(`the plan needs DUT output ${maxOut}; the DUT has ${status.device.outputChannels} outputs`);
    figures['dut.device'] = `${status.device.name}: ${status.device.inputChannels} in / ${status.device.outputChannels} out, ${status.device.sampleRate} Hz, IO buffer ${status.device.ioBufferFrames}, link offset ${status.device.linkOffsetFrames} frames, real-time thread ${status.device.realTimeThread}`;
    figures['dut.ptp'] = status.ptp.enabled ? `enabled, domain ${status.ptp.domain ?? 0}` : 'disabled';
    if (s.grandmasters.length > 0 && !status.ptp.enabled) log('warning: the scenario has a grandmaster but the DUT has PTP disabled');
    // Streams a crashed run left behind go first: the DUT is left as found.
    for (const id of [...status.streams.rx.map((x) => x.id), ...status.streams.tx.map((x) => x.id)]) if (id.startsWith('hil-')) await client.removeStream(id);

    // ---- the lab: grandmaster and senders on the lab interface ----
    const transport: LabTransport = udpTransport(rig.lab.interface);
    if (transport.address !== rig.lab.address) throw new Error(`the lab interface ${rig.lab.interface} has address ${transport.address}, the rig says lab.address ${rig.lab.address}: fix lab.address (or lab.netns)`);
    // PTP time as the DUT will see it: the lab's grandmaster serves this host's clock as TAI;
    // an external one serves what it serves, so the lab follows it (grandmaster-time.ts).
    let timescale = systemTimescale(transport);
    if (rig.ptp.grandmaster === 'external') {
      const g = await followGrandmasterTime(transport, rig.ptp.identity, s.grandmasters[0]?.domain ?? 0, EXTERNAL_GM_LISTEN_S);
      timescale = g.timescale;
      const now = transport.now();
      const vsTaiS = Number(g.timescale.ptpTimeAt(now) - systemTimescale(transport).ptpTimeAt(now)) / 1e9;
      figures['ptp.externalTime'] = `followed by the lab from ${g.samples} Sync samples (spread ${(g.spreadNs / 1e3).toFixed(1)} us): the grandmaster's PTP time is this host's clock as TAI ${vsTaiS >= 0 ? '+' : ''}${vsTaiS.toFixed(6)} s`;
    }
    let gm: Grandmaster | undefined;
    const gmSpec = s.grandmasters[0];
    const startedAt = transport.now();
    // The runner's wall clock at its grandmaster's start (the lab's only): what the runner's own lock figure counts from.
    const gmStartedMs = performance.now();
    if (gmSpec && rig.ptp.grandmaster === 'lab') {
      gm = new Grandmaster(transport, {
        domain: gmSpec.domain,
        priority1: gmSpec.priority1,
        priority2: gmSpec.priority2,
        clockClass: gmSpec.clockClass,
        profile: gmSpec.profile,
        twoStep: gmSpec.twoStep,
        logSyncInterval: gmSpec.logSyncInterval,
        logAnnounceInterval: gmSpec.logAnnounceInterval,
        identitySeed: `aes67-lab hil gm ${gmSpec.name}`,
        timescale,
      });
      actors.push(gm);
      cleanup.push(() => gm!.close());
      figures['ptp.grandmaster'] = `the lab's emulated grandmaster ${gm.portIdentity.clockIdentity} on ${rig.lab.interface}, PTP time = host clock as TAI`;
    } else if (rig.ptp.grandmaster === 'external') {
      figures['ptp.grandmaster'] = `external ${rig.ptp.identity} (the senders stamp RTP from this host's clock as TAI: it must follow that grandmaster)`;
    }
    const gmEui = gm ? gm.portIdentity.clockIdentity.match(/../g)!.join('-').toUpperCase() : rig.ptp.grandmaster === 'external' ? rig.ptp.identity : undefined;
    const rate = s.device.rate;
    // Every sender writes through labTx: with network impairments it diverts their media to the relay.
    const labTx = relayedTransport(transport);
    const senders: LabSender[] = plan.senders.map((x) => {
      const srate = x.spec.rate ?? 48_000;
      if (srate !== rate) throw new Error(`senders[${x.index}] '${x.spec.name}' runs at ${srate} Hz and the DUT at ${rate} Hz: the DUT plays one rate`);
      const framesPerPacket = framesOf(x.spec.ptime ?? 1_000_000, srate, `senders[${x.index}] ptime`);
      const signal = interleaved(channelSignals(x.spec, x.channels, srate, loaded.file), srate);
      if (x.spec.kind === 'dante') {
        if (!gmEui) throw new Error(`senders[${x.index}] '${x.spec.name}': a Dante sender writes its grandmaster in ts-refclk; add a grandmaster to the scenario (or name the rig's external one)`);
        const dante = new DanteAes67Sender({
          transport: labTx,
          timescale,
          deviceName: x.spec.deviceName ?? x.spec.name.replace(/[^A-Za-z0-9-]/g, '-'),
          channels: x.channels,
          signal,
          grandmaster: gmEui,
          // The lab's Dante device takes the rig's /24 as its AES67 multicast prefix, so every group the lab uses stays in the range the rig owns.
          multicastPrefix: `${rig.multicast}.0/24`,
          ...(x.spec.channelLabels ? { channelLabels: x.spec.channelLabels } : {}),
          ...(x.spec.sapInterval !== undefined ? { sapIntervalNs: x.spec.sapInterval } : {}),
          ...(x.spec.mediaclkOffset !== undefined ? { mediaclkOffset: x.spec.mediaclkOffset } : {}),
        });
        actors.push(dante);
        cleanup.push(() => dante.close());
        figures[`dante.${x.spec.name}`] = `flow "${dante.sessionName}" to ${dante.destination}:5004, announced by SAP to 239.255.255.255:9875 every ${(x.spec.sapInterval ?? 30e9) / 1e9} s`;
        return { plan: x, actor: dante, rtp: () => dante.rtp, destination: `${dante.destination}:5004`, framesPerPacket: 48, name: dante.sessionName, sdp: () => dante.sdp() };
      }
      const [group, port] = x.destination!.split(':');
      if (x.spec.kind === 'ravenna') {
        if (!gmEui) throw new Error(`senders[${x.index}] '${x.spec.name}': a RAVENNA session writes its grandmaster in ts-refclk; add a grandmaster to the scenario (or name the rig's external one)`);
        const rtspPort = RAVENNA_RTSP_PORT + x.index;
        const ravenna = new RavennaSender({
          transport: labTx,
          timescale,
          streams: tcpStreams(transport.address),
          sessionName: x.spec.name,
          deviceName: x.spec.deviceName ?? `${x.spec.name} device`,
          destination: group,
          port: Number(port),
          channels: x.channels,
          sampleRate: srate,
          encoding: (x.spec.encoding ?? 'L24') as 'L16' | 'L24',
          framesPerPacket,
          grandmaster: gmEui,
          ptpDomain: gmSpec?.domain ?? 0,
          mediaclkOffset: x.spec.mediaclkOffset ?? fnv1a(`mediaclk ${x.spec.name}`),
          rtspPort,
          signal,
        });
        actors.push(ravenna);
        cleanup.push(() => ravenna.close());
        figures[`ravenna.${x.spec.name}`] = `session "${x.spec.name}" (device "${x.spec.deviceName ?? `${x.spec.name} device`}") to ${x.destination}, DNS-SD _ravenna_session._sub._rtsp._tcp, ${ravenna.url}`;
        return { plan: x, actor: ravenna, rtp: () => ravenna.rtp, destination: x.destination!, framesPerPacket, name: x.spec.name, sdp: () => ravenna.sdp(), ravenna };
      }
      const sender = new Aes67Sender({
        transport: labTx,
        timescale,
        destination: group,
        port: Number(port),
        channels: x.channels,
        sampleRate: srate,
        encoding: x.spec.encoding ?? 'L24',
        framesPerPacket,
        signal,
        mediaclkOffset: x.spec.mediaclkOffset ?? 0,
        sessionName: x.spec.name,
        ...(gmEui ? { ptpRefclk: { gmid: gmEui, domain: gmSpec?.domain ?? 0 } } : {}),
      });
      actors.push(sender);
      cleanup.push(() => sender.close());
      return { plan: x, actor: sender, rtp: () => sender, destination: x.destination!, framesPerPacket, name: x.spec.name, sdp: () => sender.sdp() };
    });
    // A Dante device picks its group by itself: it must not land on another stream's.
    const taken = [...senders.filter((x) => x.plan.spec.kind !== 'dante').map((x) => x.destination), ...plan.transmit.map((t) => t.destination)];
    for (const x of senders) {
      if (x.plan.spec.kind === 'dante' && taken.includes(x.destination)) throw new Error(`senders[${x.plan.index}] '${x.plan.spec.name}': the Dante device picked ${x.destination}, which another stream of the run uses; give it another deviceName`);
      taken.push(x.destination);
    }

    // ---- the impairment relay: between the senders' media and the DUT (lab/impair/udp-relay.ts) ----
    const ledger = new LossLedger();
    const relayWindow = { from: Infinity, until: Infinity };
    const relayTally = { dropped: 0, delayMaxNs: 0, forwardedInWindow: 0, droppedSeqs: [] as string[] };
    const relays: UdpRelay[] = [];
    if (plan.relay) {
      const model = new ImpairmentModel(impairmentConfig(s.network, s.seed));
      // Impairments act only over the measured span (or its network.active part): the DUT locks and settles on a clean link, and every drop is one the DUT's counters, read at the span's ends, saw.
      // Outside the window a datagram passes unimpaired, but never ahead of one still held from inside it (the flow stays in order across the window's end).
      let lastDue = -Infinity;
      const gated = {
        decide: (p: Parameters<ImpairmentModel['decide']>[0]) => {
          if (p.sentAt >= relayWindow.from && p.sentAt < relayWindow.until) {
            const copies = model.decide(p);
            for (const c of copies) lastDue = Math.max(lastDue, p.sentAt + c);
            return copies;
          }
          return [Math.max(0, lastDue - p.sentAt)];
        },
      };
      for (const x of senders) {
        const probe = transport.open({ port: 0 });
        const listenPort = Number(probe.localEndpoint().split(':').pop());
        probe.close();
        const relay = new UdpRelay(transport, {
          listenPort,
          forwardTo: x.destination,
          impairment: gated,
          onDecided: (data, receivedAt, copies) => {
            if (!(receivedAt >= relayWindow.from && receivedAt < relayWindow.until)) return;
            ledger.record(x.destination, 'in', data, receivedAt, [...copies]);
            if (copies.length === 0) {
              relayTally.dropped++;
              if (relayTally.droppedSeqs.length < 1000 && data.length >= 12) relayTally.droppedSeqs.push(`${x.destination} ${data.readUInt16BE(2)}`);
            }
            else relayTally.forwardedInWindow++;
            for (const c of copies) relayTally.delayMaxNs = Math.max(relayTally.delayMaxNs, c);
          },
        });
        labTx.divert(x.destination, `${transport.address}:${listenPort}`);
        relays.push(relay);
        actors.push(relay);
        cleanup.push(() => relay.close());
      }
      figures['network.relay'] = `${relays.length} relay(s) on ${rig.lab.interface}: the senders' media to ${transport.address}:<relay port>, forwarded impaired to their groups (seed ${s.seed}); PTP, SAP, mDNS and RTSP go straight`;
    }
    // ---- the capture: the lab interface, from before the first packet (a Dante sender's first SAP announcement goes out on its first poll) ----
    mkdirSync(o.outDir, { recursive: true });
    const captureFile = path.join(o.outDir, `${s.name}.pcapng`);
    const captureOptions = { interface: rig.lab.interface, filter: 'udp', seconds: rig.capture.seconds, output: captureFile, maxPackets: 2_000_000, signal: abort.signal };
    let captured: Promise<{ packets: number; dropped?: number }>;
    if (dumpcapAvailable()) {
      // Its own process: kernel time stamps (the DUT's packet intervals as on the wire, whatever
      // this loop was doing), and nothing of it on the real-time thread.
      const c = startDumpcap(captureOptions);
      await c.started;
      captured = c.done;
      figures['capture.by'] = "dumpcap (the kernel's time stamps)";
    } else {
      captured = captureLive(captureOptions);
      figures['capture.by'] = "cap in the runner's process (stamped when the runner read each frame: a stall of the runner widens tx.pitMax; install wireshark-common for dumpcap)";
    }
    captureDone = captured.then(
      (r) => {
        figures['capture.packets'] = r.packets;
        if (r.dropped) figures['capture.dropped'] = r.dropped;
        return r;
      },
      (e: Error) => {
        figures['capture.error'] = e.message;
      },
    );
    figures['capture.file'] = path.basename(captureFile);
    figures['capture.seconds'] = `the first ${rig.capture.seconds} s after the lab's peers were created, before their first packet (rig capture.seconds)`;

    const pacing: LabPacing = { measuring: false, maxLatenessNs: 0, stalls: 0, stalledNs: 0, monitor: new LoopStallMonitor(STALL_NS / 1e6) };
    cleanup.push(() => pacing.monitor.stop());
    // The analysis worker loads now, before anything runs real-time (lab/net/real-time-priority.ts
    // says why), and stays at normal priority: its bursts must not hold a core against the senders.
    pool = new WindowPool(loaded.file, plan.senders, plan.transmit, rate);
    const workerTid = await pool.ready;
    const fifo = o.fifo;
    if (fifo !== undefined) {
      figures['lab.realtime'] = `${raiseThreadsToFifo(fifo, workerTid ? [workerTid] : [])}, from the peers' start until the senders stop`;
      cleanup.push(() => setRealTimePriority(0, 'all-threads'));
    } else figures['lab.realtime'] = 'normal priority (--fifo N for SCHED_FIFO)';
    loop = pollRealTime(actors, transport, abort.signal, pacing);

    // ---- the DUT's streams: RX from each sender's SDP, TX per returned stream ----
    if (senders.some((x) => x.plan.discovery === 'sap') && !status.sap.listening) {
      throw new Error("the DUT's SAP listener is off: a Dante sender is found by its SAP announcement; turn it on in the DUT's configuration (aes67-dut: sap: { listen: true })");
    }
    for (const x of senders) {
      let how: Record<string, unknown>;
      if (x.plan.discovery === 'sap') how = { sap: x.name };
      else if (x.plan.discovery === 'rtsp') how = { rtsp: await resolveRavenna(x.name, x.ravenna!.url, rig.lab.interface, figures, transport) };
      else how = { sdp: x.sdp() };
      await client.addStream({ kind: 'rx', id: x.plan.rxId, ...how, channels: x.plan.inputs });
      cleanup.push(() => client.removeStream(x.plan.rxId).catch(() => {}));
    }
    const txSpec = (t: (typeof plan.transmit)[number]) => ({ kind: 'tx' as const, id: t.id, name: t.name, destination: t.destination, encoding: t.encoding, channels: t.channels, ptimeUs: t.ptimeUs, channelMap: t.outputs });
    const txSdp: string[] = [];
    for (const t of plan.transmit) {
      await client.addStream(txSpec(t));
      cleanup.push(() => client.removeStream(t.id).catch(() => {}));
      txSdp.push(await client.sdp(t.id));
    }
    const configuredAt = transport.now();
    figures['dut.configuredAfterMs'] = round((configuredAt - startedAt) / 1e6, 1);
    // Streams the DUT finds itself (SAP) or describes (RTSP): active before anything is measured.
    const found = senders.filter((x) => x.plan.discovery !== 'sdp');
    if (found.length > 0) {
      const until = transport.now() + FIND_WAIT_S * 1e9;
      let rx = (await client.status()).streams.rx;
      const pending = () => found.filter((x) => !rx.find((r) => r.id === x.plan.rxId)?.active);
      while (pending().length > 0 && transport.now() < until) {
        await sleep(200);
        rx = (await client.status()).streams.rx;
      }
      for (const x of found) {
        const r = rx.find((q) => q.id === x.plan.rxId);
        if (!r?.active) {
          throw new Error(`the DUT did not find senders[${x.plan.index}] '${x.plan.spec.name}' (${x.plan.discovery === 'sap' ? `SAP session "${x.name}"` : `RTSP ${x.ravenna!.url}`}) within ${FIND_WAIT_S} s${r?.problem ? `: ${r.problem}` : ''}; its SAP sessions: ${(await client.status()).sap.sessions.map((q) => q.name).join(', ') || 'none'}`);
        }
        figures[`discovery.${x.plan.spec.name}.activeAfterMs`] = round((transport.now() - configuredAt) / 1e6, 0);
        figures[`discovery.${x.plan.spec.name}`] = `the DUT's RX stream ${r.id} from ${r.source}${r.sap ? ` "${r.sap}"` : ''}: ${r.destination}, ${r.format ? `${r.format.encoding}/${r.format.sampleRate}/${r.format.channels}, ${r.format.framesPerPacket} frames` : '?'}`;
      }
    }

    // ---- PTP lock ----
    // The runner waits for the DUT's lock and keeps two kinds of figure apart: its own wall
    // time until a poll first saw the lock (ptp.lockSeen*: its set-up and polling included),
    // and the DUT's own times from its status (ptp.dut.*), which ptp.lockTime judges.
    let lockedAt: number | undefined;
    let lastStatus = status;
    const hasGrandmaster = s.grandmasters.length > 0 || rig.ptp.grandmaster === 'external';
    if (hasGrandmaster) {
      const until = transport.now() + LOCK_WAIT_S * 1e9;
      while (transport.now() < until) {
        lastStatus = await client.status();
        if (lastStatus.ptp.locked) {
          lockedAt = transport.now();
          break;
        }
        await sleep(LOCK_POLL_MS);
      }
      if (lockedAt === undefined) notMeasured('ptp.lockTime', `the DUT's PTP slave did not lock within ${LOCK_WAIT_S} s (port ${lastStatus.ptp.portState ?? '?'}, servo ${lastStatus.ptp.servoState ?? '?'})`);
      else {
        const seenMs = performance.now();
        figures['ptp.lockSeenFromRunnerStartMs'] = round(seenMs - started, 1);
        if (gm) figures['ptp.lockSeenFromGrandmasterStartMs'] = round(seenMs - gmStartedMs, 1);
        figures['ptp.lockSeen'] = `the runner's own wall time until a GET /status (every ${LOCK_POLL_MS} ms) first said locked: from its start${gm ? " and from its grandmaster's start" : ' (the external grandmaster ran before it)'}; its set-up and polling are in it, so it is not the DUT's lock time (ptp.dut.lastAcquisitionMs)`;
        const lock = dutLockOf(status.ptp, lastStatus.ptp);
        if (typeof lock.acquisitionMs === 'number') {
          values.set('ptp.lockTime', lock.acquisitionMs);
          figures['ptp.lockTimeMs'] = lock.acquisitionMs;
          figures['ptp.dut.lastAcquisitionMs'] = lock.acquisitionMs;
        } else notMeasured('ptp.lockTime', lock.acquisitionMs.missing);
        if (lock.firstLockMs !== undefined) figures['ptp.dut.firstLockMs'] = lock.firstLockMs;
        figures['ptp.dut.lockedDuringRun'] = lock.lockedDuringRun;
        figures['ptp.dut.lock'] = lock.lockedDuringRun
          ? `the DUT locked while the runner waited (${lock.locksWhileWaiting} lock(s), ${lock.lockLossesWhileWaiting} loss(es) meanwhile); by its status it took ${typeof lock.acquisitionMs === 'number' ? `${lock.acquisitionMs} ms` : '?'} from its grandmaster's first Sync sample while unlocked until locked, and its first lock came ${lock.firstLockMs ?? '?'} ms after its PTP slave started (the DUT's start, time with no grandmaster included)`
          : `the DUT was locked when the runner started: the lock (its acquisition ${typeof lock.acquisitionMs === 'number' ? `${lock.acquisitionMs} ms` : '?'} by its status) is older than this run, and the runner's wall figure is its own set-up`;
      }
      const gmSeen = lastStatus.ptp.grandmaster ?? null;
      figures['ptp.dutGrandmaster'] = gmSeen;
      if (gmEui && gmSeen && clockHex(gmSeen) !== clockHex(gmEui)) {
        figures['ptp.wrongGrandmaster'] = `the DUT follows ${gmSeen}, the rig expects ${gmEui}`;
        if (lockedAt !== undefined) notMeasured('ptp.lockTime', `the DUT locked to ${gmSeen}, not the expected grandmaster ${gmEui}`);
      }
    } else notMeasured('ptp.lockTime', 'no grandmaster in the scenario');
    await sleep(SETTLE_S * 1000);

    // ---- the measured span: windows of returned audio, status, memory ----
    const durationS = s.duration / 1e9;
    const windows = Math.max(1, Math.ceil(durationS / WINDOW_S));
    // The DUT's counters from here on: what happened before lock (its media clock stepping onto the grandmaster's) is not judged.
    const atStart = await client.status();
    const results: Promise<WindowResult>[] = [];
    // One socket per returned stream for the whole span, opened now (before the first window).
    const returned = txSdp.map((t) => describeAes67(t));
    const returnSockets = returned.map((d) => openStreamSocket(transport, d));
    cleanup.push(() => returnSockets.forEach((x) => x.close()));
    const labTotals = { lost: 0, late: 0, duplicates: 0, reordered: 0, packets: 0 };
    // Where the lab's receivers lost packets: "window k stream: n lost".
    const labLosses: string[] = [];
    // Per returned stream: the windows since the last one that brought audio back (a hole the
    // analysis finds only when a later window brings audio again, so one at the end is counted here).
    const emptySinceAudio = plan.transmit.map(() => 0);
    // Per returned stream: media time where its newest audio ends, and datagrams back so far (a device event checks the stream it stops was up).
    const audioEnd = plan.transmit.map(() => -Infinity);
    const backPackets = plan.transmit.map(() => 0);
    const measureStart = transport.now();
    if (plan.relay) {
      relayWindow.from = measureStart + (s.network.active?.from ?? 0);
      relayWindow.until = measureStart + Math.min(s.network.active?.until ?? Infinity, s.duration);
    }
    // What the relay dropped, as sender media (for leaving it out of the sample comparison and pairing it with glitches).
    const ledgerSenders = senders.map((x, i) => ({
      endpoint: x.destination,
      sender: x.plan.index,
      mediaclkOffset: x.rtp().stream.mediaclkOffset ?? 0,
      framesPerPacket: x.framesPerPacket,
      mediaAt: (t: number) => Number(mediaTimeOf(timescale.ptpTimeAt(t), rate)),
      i,
    }));
    const lostNow = (): MediaGap[] => (plan.relay ? lostMedia(ledger, ledgerSenders) : []);
    // RAVENNA session changes (scenario time = from the start of the measured span): pushed by RTSP ANNOUNCE.
    const sessionChanges = senders.flatMap((x) => x.plan.spec.events.flatMap((e) => ('session' in e ? [{ x, at: measureStart + e.at, destination: e.session.destination, done: false }] : [])));
    // Device events (scenario device.events): the runner makes the DUT do them at its own time line's points, through the control endpoint.
    const dutEvents = plan.dutEvents.map((e) => ({ ...e, due: measureStart + e.at, done: undefined as Promise<void> | undefined, failed: undefined as string | undefined }));
    const dutEventNotes: string[] = [];
    const dutChain = new Map<number, Promise<void>>();
    const cpuAtStart = process.cpuUsage();
    pacing.monitor.start();
    pacing.measuring = true;
    for (const x of senders) x.rtp().takeMaxLateness();
    const rss: { t: number; kib: number }[] = [];
    const pid = loadedRig.dutPid;
    const sampleRss = () => {
      if (pid !== undefined) pacing.monitor.time('dut-rss', () => rss.push({ t: (transport.now() - measureStart) / 1e9, kib: readRssKiB(pid) }));
    };
    sampleRss();
    const fill: { t: number; frames: number }[][] = plan.senders.map(() => []);
    const ptpOffset: { t: number; ns: number }[] = [];
    let monitors: Monitor[] = [];
    const txFrames = plan.transmit.map((t) => Math.round((t.ptimeUs * rate) / 1e6));
    const openWindow = (k: number) => pacing.monitor.time('window-open', () => {
      const closesAt = measureStart + (k * WINDOW_S + WINDOW_S + OVERLAP_S) * 1e9;
      returned.forEach((stream, i) => {
        const sub = new RtpSubscription({ transport, timescale, stream, recordSeconds: WINDOW_S + OVERLAP_S + 1, fed: true });
        monitors.push({ stream: i, window: k, sub, closesAt });
      });
    });
    // Every datagram of each returned stream to each open window of that stream (overlapping windows both get it).
    const feedWindows = () => {
      returnSockets.forEach((socket, i) => {
        for (let d = socket.receive(); d; d = socket.receive()) {
          backPackets[i]++;
          for (const m of monitors) if (m.stream === i) m.sub.take(d);
        }
      });
    };
    const closeDue = (now: number, force = false) => {
      const due = monitors.filter((m) => force || now >= m.closesAt);
      if (due.length === 0) return;
      monitors = monitors.filter((m) => !due.includes(m));
      const batch: WindowHandoff[] = [];
      feedWindows();
      for (const m of due) {
        const met = m.sub.metrics;
        labTotals.lost += met.lost;
        labTotals.late += met.late;
        labTotals.duplicates += met.duplicates;
        labTotals.reordered += met.reordered;
        labTotals.packets += met.packets;
        if (met.lost > 0) labLosses.push(`window ${m.window + 1} ${plan.transmit[m.stream].name}: ${met.lost} lost`);
        // Handed over undecoded: the worker decodes it (window-pool.ts).
        const recording = pacing.monitor.time('window-take', () => m.sub.takeRecording());
        if (!recording || recording.lastFrameEnd === 0 || recording.stream.channels === 0) {
          emptySinceAudio[m.stream]++;
          continue;
        }
        emptySinceAudio[m.stream] = 0;
        audioEnd[m.stream] = Math.max(audioEnd[m.stream], Number(recording.firstSample) + recording.lastFrameEnd);
        batch.push({ stream: m.stream, recording, framesPerPacket: txFrames[m.stream], ...(plan.relay ? { lost: lostNow() } : {}) });
      }
      if (batch.length > 0) {
        // Settled here, judged at the end: a failed analysis is an error in the report, never an unhandled rejection.
        const p = pacing.monitor.time('window-handoff', () => pool!.analyse(batch));
        p.catch(() => {});
        results.push(p);
      }
      else results.push(Promise.resolve({ mismatched: 0, compared: 0, notes: [`window ${results.length + 1}: nothing came back from the DUT`], glitches: [], analysedChannels: 0, analysedStreams: [], glitchSamples: 0, sines: [], nothingBack: true }));
    };
    // The receivers are polled by their own small loop (they drain sockets); the senders and grandmaster by pollRealTime.
    const measureEnd = measureStart + durationS * 1e9;
    let nextWindow = 0;
    let nextStatus = 0;
    let nextRss = RSS_EVERY_S * 1e9 + measureStart;
    let polls = 0;
    while (transport.now() < measureEnd + OVERLAP_S * 1e9) {
      const now = transport.now();
      if (nextWindow < windows && now >= measureStart + nextWindow * WINDOW_S * 1e9) openWindow(nextWindow++);
      pacing.monitor.time('receivers', feedWindows);
      closeDue(now);
      for (const c of sessionChanges) {
        if (c.done || now < c.at) continue;
        c.done = true;
        const [group, port] = c.destination.split(':');
        c.x.ravenna!.update({ destination: group, port: Number(port) });
        figures[`ravenna.${c.x.plan.spec.name}.changedAtS`] = `${round((now - measureStart) / 1e9, 3)} s: to ${c.destination}, ANNOUNCE to ${c.x.ravenna!.rtsp.openConnections} RTSP client(s)`;
      }
      for (const e of dutEvents) {
        if (e.done || now < e.due) continue;
        const t = plan.transmit[e.tx];
        const atS = round((now - measureStart) / 1e9, 3);
        // What the runner saw before it acted: the DUT locked (else the span began after LOCK_WAIT_S) and what of the stream came back.
        const before = `${lockedAt === undefined ? 'the DUT had not locked' : 'the DUT locked'}, ${backPackets[e.tx]} datagrams of it back so far`;
        const verb = e.action === 'stop' ? 'stopped' : 'started again';
        // One stream's events in order: a start waits for the stop before it.
        e.done = (dutChain.get(e.tx) ?? Promise.resolve()).then(async () => {
          const asked = performance.now();
          try {
            if (e.action === 'stop') await client.removeStream(t.id);
            else await client.addStream(txSpec(t));
            dutEventNotes.push(`${atS} s (due ${round(e.at / 1e9, 3)} s): ${verb} TX ${t.id} '${t.name}' (${e.action === 'stop' ? 'DELETE' : 'POST'} answered in ${round(performance.now() - asked, 0)} ms; ${before})`);
          } catch (err) {
            e.failed = `the DUT was not ${verb} TX ${t.id} '${t.name}' at ${atS} s (device.events): ${(err as Error).message}`;
          }
        });
        dutChain.set(e.tx, e.done);
      }
      if (now >= nextStatus) {
        nextStatus = now + STATUS_EVERY_MS * 1e6;
        void client.status().then(
          (st) => pacing.monitor.time('dut-status', () => {
            const t = (transport.now() - measureStart) / 1e9;
            st.streams.rx.forEach((r) => {
              const i = plan.senders.findIndex((x) => x.rxId === r.id);
              if (i >= 0) fill[i].push({ t, frames: r.playout.fillFrames });
            });
            if (typeof st.ptp.offsetNs === 'number') ptpOffset.push({ t, ns: st.ptp.offsetNs });
            lastStatus = st;
          }),
          () => {
            polls++;
          },
        );
      }
      if (now >= nextRss) {
        nextRss += RSS_EVERY_S * 1e9;
        sampleRss();
      }
      await sleep(1);
    }
    pacing.measuring = false;
    // Each packet's lateness when it left (a poll catching up after a stall sends for a while).
    pacing.maxLatenessNs = Math.max(pacing.maxLatenessNs, ...senders.map((x) => x.rtp().takeMaxLateness()));
    const stallSummary = pacing.monitor.summary();
    pacing.monitor.stop();
    const cpu = process.cpuUsage(cpuAtStart);
    const measuredS = (transport.now() - measureStart) / 1e9;
    figures['lab.cpuPercentOfOneCore'] = round(((cpu.user + cpu.system) / 1e6 / measuredS) * 100, 1);
    const closedAt = transport.now();
    closeDue(closedAt, true);
    const mediaAtClose = Number(mediaTimeOf(timescale.ptpTimeAt(closedAt), rate));
    // A stream whose newest audio is older than STOPPED_AFTER_S when the last window closed stopped in it.
    const quietAtEnd = audioEnd.map((end) => Number.isFinite(end) && mediaAtClose - end > STOPPED_AFTER_S * rate);
    await Promise.all(dutEvents.map((e) => e.done));
    const eventFailure = dutEvents.find((e) => e.failed !== undefined)?.failed;
    if (eventFailure !== undefined) throw new Error(eventFailure);
    if (dutEvents.length > 0) figures['dut.events'] = dutEventNotes.join('; ');
    sampleRss();
    const final = await client.status();
    if (polls > 0) figures['dut.statusFailures'] = polls;
    figures['windows'] = `${windows} windows of ${WINDOW_S} s (overlap ${OVERLAP_S} s) over ${durationS} s, from ${round((measureStart - startedAt) / 1e9, 2)} s after the grandmaster started`;

    // ---- what the windows found ----
    const settled = await Promise.allSettled(results);
    const analysisFailures = settled.filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => (x.reason as Error).message);
    const done = settled.filter((x): x is PromiseFulfilledResult<WindowResult> => x.status === 'fulfilled').map((x) => x.value);
    if (analysisFailures.length > 0) {
      figures['analysis.failures'] = `${analysisFailures.length} of ${settled.length} windows: ${analysisFailures[0]}`;
      // What was not analysed cannot be judged clean.
      for (const k of ['glitches.count', 'audio.mismatched', 'latency.roundTrip', 'latency.spread', 'latency.confidence']) notMeasured(k, `the returned audio of ${analysisFailures.length} of ${settled.length} windows was not analysed: ${analysisFailures[0]}`);
    }
    let mismatched = 0;
    let compared = 0;
    const glitchList = done.flatMap((r) => r.glitches);
    const rts = done.map((r) => r.roundTrip).filter((x): x is number => x !== undefined);
    const confidences = done.map((r) => r.confidence).filter((x): x is number => x !== undefined);
    const notes = done.flatMap((r) => r.notes);
    for (const r of done) {
      mismatched += r.mismatched;
      compared += r.compared;
    }
    const nothingBack = done.filter((r) => r.nothingBack).length;
    // One sine channel per returned stream is analysed (a lost packet hits every channel of a stream alike).
    const analysed = new Set(done.flatMap((r) => r.analysedStreams)).size;
    figures['audio.comparedSamples'] = compared;
    figures['audio.mismatchedSamples'] = mismatched;
    if (notes.length) figures['audio.notes'] = notes.slice(0, 8).join('; ');
    figures['glitches.analysedChannels'] = analysed;
    figures['glitches.analysedSeconds'] = round(done.reduce((a, r) => a + r.glitchSamples, 0) / rate / Math.max(1, analysed), 3);
    if (nothingBack > 0) figures['windows.empty'] = nothingBack;
    for (const q of done.flatMap((r) => r.sines)) {
      const t = plan.transmit[q.stream];
      figures[`sine.${t.name}.output${q.output}`] = `${round(q.frequencyHz, 3)} Hz (sent ${q.expectedHz} Hz), ${round(q.levelDbfs, 2)} dBFS, THD+N ${round(q.thdnDb, 1)} dB`;
    }
    if (analysisFailures.length > 0) {
      // already not measured, above
    } else if (nothingBack === done.length) {
      for (const k of ['glitches.count', 'audio.mismatched', 'latency.roundTrip', 'latency.spread', 'latency.confidence']) notMeasured(k, 'nothing came back from the DUT: no packet of its transmit streams reached the lab');
    } else {
      // A stream analysed once whose last windows came back empty stopped: one dropout more.
      const stoppedAtEnd = streamsStoppedAtEnd(emptySinceAudio, done.flatMap((r) => r.analysedStreams), quietAtEnd);
      const stopText = (i: number) =>
        `${plan.transmit[i].name}: ${emptySinceAudio[i] > 0 ? `nothing back in the last ${emptySinceAudio[i]} window(s)` : 'its last window ended early'}, its audio ended ${round((mediaAtClose - audioEnd[i]) / rate, 3)} s before the last window closed`;
      if (stoppedAtEnd.length > 0) figures['glitches.stoppedAtEnd'] = stoppedAtEnd.map(stopText).join('; ');
      if (analysed === 0) notMeasured('glitches.count', 'no returned channel carries a sine (check the loopback map)');
      else values.set('glitches.count', glitchList.length + stoppedAtEnd.length);
      if (compared === 0) notMeasured('audio.mismatched', 'no round trip was measured, so nothing was compared (the probe did not come back where the loopback map says)');
      else values.set('audio.mismatched', mismatched + (nothingBack > 0 ? Infinity : 0));
      if (rts.length === 0) for (const k of ['latency.roundTrip', 'latency.spread', 'latency.confidence']) notMeasured(k, 'the probe did not come back on the channel the rig loopback map says carries it');
      else {
        const sorted = [...rts].sort((a, b) => a - b);
        values.set('latency.roundTrip', round((sorted[Math.floor(sorted.length / 2)] * 1000) / rate));
        values.set('latency.spread', sorted[sorted.length - 1] - sorted[0]);
        values.set('latency.confidence', round(Math.min(...confidences, 1e9), 3));
        figures['latency.roundTripFrames'] = sorted[Math.floor(sorted.length / 2)];
        figures['latency.windows'] = rts.length;
      }
    }
    if (values.get('audio.mismatched') === Infinity) {
      values.set('audio.mismatched', mismatched);
      figures['audio.emptyWindows'] = `${nothingBack} windows had nothing back: their samples are missing from the comparison`;
    }
    values.set('rtp.lab.lost', labTotals.lost);
    values.set('rtp.lab.late', labTotals.late);
    values.set('rtp.lab.duplicates', labTotals.duplicates);
    values.set('rtp.lab.reordered', labTotals.reordered);
    figures['lab.packets'] = labTotals.packets;
    // A loss the lab host's kernel made (a receive buffer full while the lab stalled) is not the DUT's.
    figures['rtp.lab.socketOverflows'] = returnSockets.reduce((n, x) => n + x.receiveOverflows(), 0);
    if (labLosses.length > 0) figures['rtp.lab.losses'] = labLosses.slice(0, 12).join('; ') + (labLosses.length > 12 ? `; ... ${labLosses.length - 12} more` : '');
    let devLost = 0;
    let devLate = 0;
    for (const r of final.streams.rx) {
      const i = plan.senders.findIndex((x) => x.rxId === r.id);
      if (i < 0) continue;
      const name = plan.senders[i].spec.name;
      const r0 = atStart.streams.rx.find((x) => x.id === r.id);
      const delta = (now: number, then: number | undefined) => now - (then ?? 0);
      const lost = delta(Number(r.counters.lost ?? 0), Number(r0?.counters.lost ?? 0));
      const late = delta(r.playout.latePackets, r0?.playout.latePackets);
      devLost += lost;
      devLate += late;
      figures[`rx.${name}.received`] = delta(Number(r.counters.received ?? 0), Number(r0?.counters.received ?? 0));
      figures[`rx.${name}.lost`] = lost;
      figures[`rx.${name}.late`] = late;
      figures[`rx.${name}.framesMissing`] = delta(r.playout.framesMissing, r0?.playout.framesMissing);
      figures[`rx.${name}.socketOverflows`] = delta(Number(r.counters.socketOverflows ?? 0), Number(r0?.counters.socketOverflows ?? 0));
      figures[`rx.${name}.beforeMeasurement`] = `lost ${Number(r0?.counters.lost ?? 0)}, late ${r0?.playout.latePackets ?? 0}, frames missing ${r0?.playout.framesMissing ?? 0} (start-up and PTP lock; not judged)`;
      if (r.problem) figures[`rx.${name}.problem`] = r.problem;
    }
    values.set('rtp.device.lost', devLost);

    // ---- the relay's losses against the glitches heard ----
    const lostAll = lostNow();
    const spans = done.flatMap((r) => r.spans ?? []);
    const pairing = pairLossWithGlitches(lostAll, spans, glitchList);
    values.set('network.lost', relayTally.dropped);
    values.set('ledger.lost', relayTally.dropped);
    values.set('network.delayMax', round(relayTally.delayMaxNs / 1e6, 3));
    if (plan.relay) {
      figures['network.forwarded'] = relayTally.forwardedInWindow;
      figures['network.droppedSequences'] = relayTally.droppedSeqs.join(', ');
      figures['network.relayLatenessMaxMs'] = round(Math.max(0, ...relays.map((r) => r.stats.maxLatenessNs)) / 1e6, 3);
      figures['network.relayQueueOverflow'] = relays.reduce((a, r) => a + r.stats.queueOverflow, 0);
      figures['network.diverted'] = [...labTx.diverted.entries()].map(([d, n]) => `${d}: ${n}`).join(', ');
      figures['ledger.unsentFrames'] = ledger.unsent.reduce((a, u) => a + u.frames, 0);
    }
    const skippedAsLost = done.reduce((a, r) => a + (r.skippedAsLost ?? 0), 0);
    if (skippedAsLost > 0) figures['audio.skippedAsLost'] = `${skippedAsLost} samples of lost audio (the relay's drops through the round trip) left out of audio.mismatched`;
    const pairable = values.get('glitches.count') !== undefined && values.get('glitches.count') !== null && spans.length > 0;
    if (!pairable) {
      const reason = why.get('glitches.count') ?? (spans.length === 0 ? 'no returned sine channel was analysed with a round trip (the probe did not come back where the loopback map says)' : 'glitches were not measured');
      for (const k of ['glitches.expected', 'glitches.heard', 'glitches.unexplained', 'glitches.equalsLost']) notMeasured(k, reason);
    } else {
      values.set('glitches.expected', pairing.expected);
      values.set('glitches.heard', pairing.heard);
      figures['glitches.pairing'] = `${pairing.heard} of ${pairing.expected} stretches of dropped audio heard, ${pairing.unexplained} glitches elsewhere; the relay dropped ${relayTally.dropped}, the DUT counted ${devLost} lost`;
      values.set('glitches.unexplained', pairing.unexplained);
      // The DUT's own count agrees with the relay's (not with reordering: a reordered packet may be counted lost, then arrive).
      const countsAgree = s.network.reorder !== undefined || devLost === relayTally.dropped;
      const ok = pairing.heard === pairing.expected && pairing.unexplained === 0 && countsAgree;
      values.set('glitches.equalsLost', ok);
      figures['glitches.deviceLostEqualsDropped'] = countsAgree;
      if (pairing.notes.length) figures['glitches.pairingNotes'] = pairing.notes.join('; ');
      if (!ok) {
        const parts: string[] = [];
        if (pairing.heard < pairing.expected) parts.push(`${pairing.expected - pairing.heard} of ${pairing.expected} stretches of dropped audio not heard`);
        if (pairing.unexplained > 0) parts.push(`${pairing.unexplained} glitches where the relay dropped nothing${devLate > 0 ? ` (the DUT counted ${devLate} late packets)` : ''}`);
        if (!countsAgree) parts.push(`the DUT counted ${devLost} lost, the relay dropped ${relayTally.dropped} on the way in`);
        why.set('glitches.equalsLost', parts.join('; '));
      }
    }
    values.set('rtp.device.late', devLate);
    // The DUT's transmit side over the measured span: a send the kernel refused is a packet the
    // lab sees lost with nothing lost on the wire; ring gaps are audio the IO cycle did not deliver in time.
    for (const t of final.streams.tx) {
      if (!t.id.startsWith('hil-')) continue;
      const t0 = atStart.streams.tx.find((x) => x.id === t.id);
      const name = t.name ?? t.id;
      figures[`tx.${name}.packetsSent`] = Number(t.counters.packetsSent ?? 0);
      for (const k of ['sendErrors', 'ringGaps', 'waitingForAudio']) figures[`tx.${name}.${k}`] = Number(t.counters[k] ?? 0) - Number(t0?.counters[k] ?? 0);
      const errno = Number(t.counters.lastSendErrno ?? 0);
      if (errno !== 0 && figures[`tx.${name}.sendErrors`] !== 0) figures[`tx.${name}.lastSendError`] = errnoName(errno);
    }
    const allFill = fill.flat().map((p) => p.frames);
    if (allFill.length > 0) {
      values.set('playout.fillMin', Math.min(...allFill));
      values.set('playout.fillMax', Math.max(...allFill));
    } else {
      notMeasured('playout.fillMin', 'no DUT status answered during the run');
      notMeasured('playout.fillMax', 'no DUT status answered during the run');
    }
    if (final.ptp.counters) for (const [k, v] of Object.entries(final.ptp.counters)) figures[`ptp.dut.${k}`] = v;
    figures['ptp.dutLocked'] = final.ptp.locked ?? false;
    // The DUT's clock over the measured span: its counters' change from the span's start to its end.
    const span = ptpCounterDeltas(atStart.ptp, final.ptp);
    for (const k of SPAN_COUNTERS) if (span.deltas[k] !== undefined) figures[`ptp.span.${k}`] = span.deltas[k]!;
    if ((span.deltas.steps ?? 0) > 0) figures['ptp.span.lastStepNs'] = Number(final.ptp.counters?.lastStepNs ?? 0);
    if (typeof final.ptp.lockedForS === 'number') figures['ptp.dut.lockedForS'] = round(final.ptp.lockedForS, 3);
    Object.assign(figures, stallFigures(stallSummary));
    figures['lab.stalls'] = `${pacing.stalls} turns of the lab's poll loop more than ${STALL_NS / 1e6} ms after the last, ${round(pacing.stalledNs / 1e9, 3)} s in all, over ${durationS} s measured`;
    // The lab's own pacing: a sender that left packets late explains a late packet at the DUT.
    for (const x of senders) {
      const st = x.rtp().stats;
      figures[`lab.sender.${x.plan.spec.name}.maxLatenessMs`] = round(st.maxLatenessNs / 1e6, 3);
      figures[`lab.sender.${x.plan.spec.name}.meanLatenessUs`] = round(st.meanLatenessNs / 1e3, 1);
      if (st.skipped > 0) figures[`lab.sender.${x.plan.spec.name}.skipped`] = st.skipped;
    }

    // ---- memory ----
    const expectations: Expectation[] = [];
    // The planner refuses grandmaster events (failover, steps) in real time, so with a
    // grandmaster none is planned: a lock loss or a step while measuring is the DUT's (or the grandmaster's).
    if (hasGrandmaster) {
      const spanText = `of the DUT's PTP slave while measuring (its status at the span's end minus at its start; ${round(durationS, 3)} s from ${SETTLE_S} s after the lock)`;
      for (const [name, k, what] of [['ptp.lockLosses', 'lockLosses', 'lock losses'], ['ptp.stepsInSpan', 'steps', 'clock steps']] as const) {
        const v = span.deltas[k];
        expectations.push(judge(name, v ?? null, { max: 0 }, 'count', v === undefined ? span.missing[k]! : `${v} ${what} ${spanText}${k === 'steps' && v > 0 ? `, the last by ${String(figures['ptp.span.lastStepNs'])} ns` : ''}; no grandmaster event is planned in real time`));
      }
    }
    if (pid !== undefined && rss.length >= 2) {
      const start = rss[0].kib;
      const end = rss[rss.length - 1].kib;
      figures['dut.rssStartKiB'] = start;
      figures['dut.rssEndKiB'] = end;
      figures['dut.rssMaxKiB'] = Math.max(...rss.map((r) => r.kib));
      figures['dut.rssSamples'] = rss.map((r) => `${round(r.t, 1)}s:${r.kib}`).join(' ');
      expectations.push(judge('dut.rssGrowth', end - start, { max: rig.dut.process!.rssGrowthMax }, 'KiB', `DUT process ${pid}: VmRSS ${start} KiB at the start of the measurement, ${end} KiB at its end (every ${RSS_EVERY_S} s in figures dut.rssSamples)`));
    }

    // ---- the capture ----
    abort.abort();
    await captureDone;
    // The senders have stopped: what is left (the capture's analysis, the report) needs no real-time priority.
    if (fifo !== undefined) setRealTimePriority(0, 'all-threads');
    const pitHistogram: Histogram[] = [];
    try {
      const a = analyzeCapture(captureFile);
      const streams = a.streams.filter((x) => x.source.startsWith(`${rig.dut.address}:`));
      figures['capture.dutStreams'] = streams.length;
      const pits = streams.map((x) => x.pitUs?.max).filter((v): v is number => v !== undefined);
      const tsdf = streams.map((x) => x.tsdfUs?.max).filter((v): v is number => v !== undefined);
      if (pits.length) values.set('tx.pitMax', round(Math.max(...pits), 3));
      else notMeasured('tx.pitMax', `no stream from the DUT (${rig.dut.address}) in the capture`);
      if (tsdf.length) values.set('tx.tsdf', round(Math.max(...tsdf), 3));
      else notMeasured('tx.tsdf', 'no TS-DF window completed');
      for (const x of streams) pitHistogram.push(pitHistogramFromAnalysis(x, `DUT TX ${x.destination}`));
    } catch (e) {
      notMeasured('tx.pitMax', `the capture could not be analysed: ${(e as Error).message}`);
      notMeasured('tx.tsdf', why.get('tx.pitMax')!);
    }

    // ---- judged, in the scenario's order, then the rig's ----
    const judged: Expectation[] = Object.entries(s.expect).map(([name, e]) => {
      const m = METRICS.get(name)!;
      const v = values.has(name) ? values.get(name)! : null;
      const message = why.get(name) ?? (v === null ? `${name} was not measured in this run` : undefined);
      return judge(name, v, limitOf(name, e), m.unit, message);
    });
    judged.push(...expectations);
    // The lab's pacing decides whether the run measured the DUT at all: a sender stalled
    // longer than the DUT's link offset makes packets late at any DUT. Then the run is an
    // error of the lab host (overloaded, not real-time), not a verdict on the DUT.
    const linkOffsetMs = (status.device.linkOffsetFrames * 1000) / rate;
    const latenessMs = round(pacing.maxLatenessNs / 1e6, 3);
    const pacingOk = latenessMs <= linkOffsetMs;
    judged.push({
      name: 'lab.pacing',
      value: latenessMs,
      limit: { max: round(linkOffsetMs, 6) },
      unit: 'ms',
      verdict: pacingOk ? 'pass' : 'error',
      message: pacingOk
        ? "the lab's event loop was never later than the DUT's link offset for a packet it had to send"
        : `the lab's own senders stalled up to ${latenessMs} ms, longer than the DUT's link offset (${round(linkOffsetMs, 3)} ms): late packets and glitches in this run may be the lab host's (overloaded, not real-time), not the DUT's`,
    });
    // Glitch times: seconds since the measurement started, from the media time line.
    const mediaStart = (Number(timescale.ptpTimeAt(measureStart)) / 1e9) * rate;
    const glitches: GlitchMark[] = glitchList.slice(0, 200).map((g) => ({ t: Math.max(0, round((g.sample - mediaStart) / rate)), sample: g.sample, channel: g.output, lengthSamples: g.length, kinds: g.kinds as GlitchMark['kinds'] }));
    const latency: LatencySamples[] = rts.length ? [{ label: 'round trip through the DUT loopback (probe), per window', mode: 'round-trip', unit: 'ms', values: rts.map((x) => round((x * 1000) / rate)), confidence: Math.min(...confidences) }] : [];
    const playoutFill: Series[] = fill.map((f, i) => ({ label: `${plan.senders[i].spec.name} (DUT playout fill, frames)`, unit: 'frames', t: f.map((p) => round(p.t, 3)), values: f.map((p) => p.frames) }));
    const ptpSeries: Series[] = ptpOffset.length ? [{ label: "DUT PTP slave's own offset estimate (GET /status)", unit: 'ns', t: ptpOffset.map((p) => round(p.t, 3)), values: ptpOffset.map((p) => p.ns) }] : [];
    return {
      ...base,
      wallTimeS: (performance.now() - started) / 1000,
      verdict: scenarioVerdict(judged),
      expectations: judged,
      ptpOffset: ptpSeries,
      playoutFill,
      latency,
      pitHistogram,
      glitches,
      figures,
    };
  } catch (e) {
    if (e instanceof HilRefusal) throw e;
    return {
      ...base,
      wallTimeS: (performance.now() - started) / 1000,
      verdict: 'error',
      error: (e as Error).message,
      expectations: [],
      ptpOffset: [],
      playoutFill: [],
      latency: [],
      pitHistogram: [],
      glitches: [],
      figures,
    };
  } finally {
    abort.abort();
    await loop?.catch(() => {});
    await captureDone?.catch(() => {});
    await pool?.close();
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // best effort: the DUT may be gone
      }
    }
  }
}

/** The stall attribution in report figures: a failed run's report says what stalled the lab. */
export function stallFigures(x: StallSummary): Record<string, Value> {
  const ms = (v: number) => round(v, 1);
  const list = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${ms(v)}`).join(', ') || 'none';
  return {
    'lab.stalls.count': x.count,
    'lab.stalls.totalMs': ms(x.totalMs),
    'lab.stalls.worstMs': ms(x.worstMs),
    'lab.worstStallCause': x.worstCause,
    'lab.stalls.gcMs': round(Object.values(x.gcMs).reduce((a, v) => a + v, 0), 1),
    'lab.stalls.gcByKindMs': list(x.gcMs),
    'lab.stalls.workMs': list(x.workMs),
    'lab.stalls.mainThreadCpuMs': ms(x.cpuMs),
    'lab.stalls.runQueueMs': ms(x.runQueueMs),
    'lab.stalls.byCause': Object.entries(x.byCause).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none',
    'lab.stalls.first': x.first.map((s) => `${round(s.atS, 2)} s: ${ms(s.ms)} ms ${s.cause}`).join('; ') || 'none',
    'lab.gc': Object.entries(x.gcAll).map(([k, g]) => `${k}: ${g.count}, ${ms(g.totalMs)} ms in all, longest ${ms(g.maxMs)} ms`).join('; ') || 'none',
    'lab.loopDelayMs': `p50 ${x.loopDelay.p50}, p99 ${x.loopDelay.p99}, max ${x.loopDelay.max} (perf_hooks.monitorEventLoopDelay)`,
  };
}
