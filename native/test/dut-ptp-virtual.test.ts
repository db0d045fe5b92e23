// The emulated DUT on AES67's clock, in virtual time: the engine's PTP slave inside the DUT
// follows the lab's Grandmaster (lab/peers/grandmaster.ts), a lab AES67 sender on the
// grandmaster's timescale announces a 997 Hz tone by SAP, the DUT subscribes to it by name,
// loops it back and announces its own stream by SAP; a lab recorder keyed by the
// grandmaster's media time captures what the DUT sends and the lab's glitch detector
// (lab/measure/glitches.ts) judges it. Everything the DUT is checked against — time, SDP
// parsing, SAP, RTP, PCM — is the lab's own TypeScript, not the engine's.
//
// 1. Lock and a grandmaster time step (+1 ms). The device follows the grandmaster (rate
//    scalar = its +30 ppm); the step leaves exactly one hole in the audio, at the DUT's
//    time line restart when its servo steps, of a size the restart explains; the sine
//    stays in phase across it (nothing played early or late).
// 2. A -5 ms grandmaster step, beyond the link offset: every packet between the
//    grandmaster's step and the DUT's is late (counted, one per packet), one run of silence of
//    exactly their audio, no packet gap, and afterwards the tone is clean: nothing wedged.
// 3. Failover to a second grandmaster on the same time: audio continuous (no glitch, no
//    restart), and the DUT's SDP (and its SAP announcement) names the new grandmaster
//    within one announce interval of the DUT following it, with the session version up.
import { describe, expect, it } from 'vitest';
import { loadNative, type VirtualClock, type VirtualNetwork } from '../index.ts';
import type { EmulatedDut } from '../driver.ts';
import { runVirtual, virtualHost, type DatagramSocket, type LabTransport, type TimedActor } from '../../lab/net/lab-transport.ts';
import { linearTimescale, mediaTimeOf, type PtpTimescale } from '../../lab/net/ptp-timescale.ts';
import { parseRtp } from '../../lab/net/rtp.ts';
import { decodePcm } from '../../lab/net/pcm.ts';
import { parseSdp } from '../../lab/net/sdp.ts';
import { Grandmaster } from '../../lab/peers/grandmaster.ts';
import { Aes67Sender } from '../../lab/peers/aes67-sender.ts';
import { SapAnnouncer } from '../../lab/peers/sap-announcer.ts';
import { SapListener } from '../../lab/peers/sap-listener.ts';
import { detectChannelGlitches } from '../../lab/measure/glitches.ts';

const native = loadNative();
const RATE = 48_000;
const SUBNET = 136;
const at = (n: number) => `10.67.${SUBNET}.${n}`;
const TONE_GROUP = `239.69.${SUBNET}.1`;
const DUT_GROUP = `239.69.${SUBNET}.2`;
const SAP_GROUP = '239.255.255.255';
const ANNOUNCE_INTERVAL_NS = 2e9; // the lab grandmaster's logAnnounceInterval 1
const LINK_OFFSET = 96; // 2 ms
const BUFFER = 64;

/** The DUT's TX stream as the lab receives it: channel 0 by the grandmaster's media time, inside a window. */
class Recorder implements TimedActor {
  readonly samples: Float32Array;
  readonly filled: Uint8Array;
  packets = 0;
  outside = 0;
  private readonly socket: DatagramSocket;
  constructor(
    transport: LabTransport,
    private readonly timescale: PtpTimescale,
    private readonly mediaclkOffset: number,
    readonly start: number,
    frames: number,
  ) {
    this.samples = new Float32Array(frames);
    this.filled = new Uint8Array(frames);
    this.socket = transport.open({ port: 5004, bindAddress: DUT_GROUP });
    this.socket.join(DUT_GROUP);
  }
  poll(): number {
    for (let d = this.socket.receive(); d; d = this.socket.receive()) {
      const p = parseRtp(d.data);
      const pcm = decodePcm(p.payload, 'L24');
      const mediaNow = Number(mediaTimeOf(this.timescale.ptpTimeAt(d.receivedAt), RATE));
      const low = (p.timestamp - this.mediaclkOffset) >>> 0;
      const m = mediaNow + ((low - (mediaNow % 2 ** 32)) | 0);
      this.packets++;
      for (let i = 0; i < pcm.length / 2; i++) {
        const k = m + i - this.start;
        if (k < 0 || k >= this.samples.length) {
          this.outside++;
          continue;
        }
        this.samples[k] = pcm[2 * i];
        this.filled[k] = 1;
      }
    }
    return Infinity;
  }
  /** Runs of frames no packet covered: [first media time, length]. */
  holes(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let k = 0; k < this.filled.length; ) {
      if (this.filled[k]) {
        k++;
        continue;
      }
      const from = k;
      while (k < this.filled.length && !this.filled[k]) k++;
      out.push([this.start + from, k - from]);
    }
    return out;
  }
}

/** The ts-refclk of an SDP (sdp-transform's parse, through the lab's SDP module). */
function refclkOf(sdp: string): string | undefined {
  const m = parseSdp(sdp).media[0] as { tsRefClocks?: Array<{ clksrc: string; clksrcExt?: string }> };
  const r = m.tsRefClocks?.[0];
  return r ? `${r.clksrc}=${r.clksrcExt}` : undefined;
}

/** 'xxxxxx.fffe.xxxxxx' (ptp4l's form) as AES67 writes it in ts-refclk: XX-XX-XX-FF-FE-XX-XX-XX. */
function gmid(identity: string): string {
  const hex = identity.replace(/\./g, '').toUpperCase();
  return hex.match(/../g)!.join('-');
}

interface World {
  clock: VirtualClock;
  network: VirtualNetwork;
  dut: EmulatedDut;
  gms: Grandmaster[];
  sender: Aes67Sender;
  listener: SapListener;
  actors: TimedActor[];
  gmLog: Array<{ gm: number; what: string; at: number }>;
}

function world(gmScripts: Array<{ priority1: number; script: ConstructorParameters<typeof Grandmaster>[1]['script'] }>, base: PtpTimescale): World {
  const clock: VirtualClock = new native.VirtualClock(0);
  const network: VirtualNetwork = new native.VirtualNetwork(clock, 50_000);
  const gmLog: World['gmLog'] = [];
  const gms = gmScripts.map(
    (g, i) =>
      new Grandmaster(virtualHost(network, clock, at(i + 1)), {
        identitySeed: `dut-virtual-gm${i + 1}`,
        priority1: g.priority1,
        timescale: base,
        script: g.script,
        onChange: (what, t) => gmLog.push({ gm: i + 1, what, at: t }),
      }),
  );
  const senderHost = virtualHost(network, clock, at(10));
  const sender = new Aes67Sender({
    transport: senderHost,
    timescale: gms[0].timescale,
    destination: TONE_GROUP,
    channels: 2,
    sampleRate: RATE,
    encoding: 'L24',
    ptimeUs: 1000,
    signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -12 },
    mediaclkOffset: 0x2a3b4c5d,
    sessionName: 'Lab tone',
    ptpRefclk: { gmid: gmid(gms[0].identity), domain: 0 },
  });
  const toneSap = new SapAnnouncer({ transport: senderHost, group: SAP_GROUP, intervalNs: 5e9, sdp: sender.sdp() });
  virtualHost(network, clock, at(20));
  const dut = new native.EmulatedDut(network, at(20), {
    device: { name: 'DUT', inputChannels: 8, outputChannels: 8, sampleRate: RATE },
    ioBufferFrames: BUFFER,
    linkOffsetFrames: LINK_OFFSET,
    ptp: { domain: 0 },
    sap: { minimumTimeoutNs: 60e9 },
    receive: [{ id: 'tone', sapName: 'Lab tone', deviceChannels: [0, 1] }],
    transmit: [
      { id: 'out', name: 'DUT out', destination: `${DUT_GROUP}:5004`, encoding: 'L24', channels: 2, sampleRate: RATE, framesPerPacket: 48, mediaclkOffset: 0x1234, deviceChannels: [0, 1], announce: true },
    ],
  });
  const lab = virtualHost(network, clock, at(30));
  const listener = new SapListener({ transport: lab, minTimeoutNs: 60e9 });
  const dutActor: TimedActor = { poll: () => dut.poll() ?? Infinity };
  return { clock, network, dut, gms, sender, listener, actors: [...gms, sender, toneSap, dutActor, listener], gmLog };
}

describe('emulated DUT on the PTP clock (virtual time, lab grandmaster and sender)', () => {
  it('locks and follows the grandmaster; a +1 ms grandmaster step leaves one explained hole and no phase jump', () => {
    const base = linearTimescale(undefined, 30); // the grandmaster's clock runs 30 ppm fast against the DUT's host
    const STEP_AT = 12e9;
    const w = world([{ priority1: 100, script: [{ atNs: STEP_AT, kind: 'step', ns: 1_000_000 }] }], base);
    w.dut.start();
    runVirtual(w.actors, w.network, w.clock, { untilNs: 9e9 });

    // Locked, to the grandmaster, with the media clock following its rate.
    const st = w.dut.ptpStatus()!;
    expect(st.locked).toBe(true);
    expect(st.grandmaster).toBe(w.gms[0].identity);
    const lockTimeS = (st.firstLockAt! - st.startedAt) / 1e9;
    expect(lockTimeS).toBeLessThan(8);
    expect(st.driftPpm).toBeCloseTo(30, 0);
    expect(st.rateScalar).toBeCloseTo(1.00003, 5);
    // The acquisition step moved media time from the free-running stand-in to PTP time: one restart.
    const c1 = w.dut.counters();
    expect(c1.resync.clockSteps).toBe(1);
    // The DUT's media clock now is the grandmaster's (within a sample).
    const now = w.clock.now();
    expect(Math.abs(w.dut.mediaTimeAt(now) - Number(mediaTimeOf(w.gms[0].timescale.ptpTimeAt(now), RATE)))).toBeLessThanOrEqual(1);
    // It subscribed to the tone by its SAP name, and announced its own stream naming the grandmaster.
    const streams = w.dut.streams();
    expect(streams.receive[0]).toMatchObject({ id: 'tone', active: true, sapName: 'Lab tone', senderClocked: false });
    const announced = w.listener.find('DUT out');
    expect(announced, 'the DUT announced its stream by SAP').toBeDefined();
    expect(refclkOf(announced!.sdp)).toBe(`ptp=IEEE1588-2008:${gmid(w.gms[0].identity)}:0`);
    expect(announced!.sdp).toBe(w.dut.txSdp('out'));

    // Record 6 s of what the DUT sends, around the grandmaster's step.
    const startMedia = w.dut.mediaTimeAt(w.clock.now()) + RATE; // from 1 s on
    const rec = new Recorder(virtualHost(w.network, w.clock, at(31)), w.gms[0].timescale, 0x1234, startMedia, 6 * RATE);
    const before = w.dut.counters();
    runVirtual([...w.actors, rec], w.network, w.clock, { untilNs: 17e9 });
    const after = w.dut.counters();
    const events = w.dut.events();

    // The step's consequences, as counted by the DUT: one more restart, the servo stepped once.
    expect(after.resync.clockSteps - before.resync.clockSteps).toBe(1);
    const st2 = w.dut.ptpStatus()!;
    expect(st2.counters.lastStepNs).toBeGreaterThan(990_000);
    expect(st2.counters.lastStepNs).toBeLessThan(1_010_000);
    expect(st2.locked).toBe(true);
    const stepEvent = events.filter((e) => /stepped .* restarts/.test(e.what)).at(-1)!;
    expect(stepEvent.at).toBeGreaterThan(STEP_AT);
    expect(stepEvent.at - STEP_AT, 'the servo steps after a few confirming Syncs').toBeLessThan(2e9);

    // The holes in the recording, on the grandmaster's media time line. The sender has none
    // of its own: when its grandmaster's time jumped it sent the skipped millisecond of
    // packets at once (its packets are due by PTP time), which the DUT, still on the old
    // time, took as early and played on time. The one hole is the DUT's restart when its
    // servo stepped: the step itself, the input safety offset (the new time line's first read
    // starts there), the TX audio written for the old time line and not yet sent (up to two
    // IO buffers and the output safety offset), rounded to packets and the cycle's phase.
    const holes = rec.holes();
    const mediaAt = (local: number) => Number(mediaTimeOf(w.gms[0].timescale.ptpTimeAt(local), RATE));
    const restartMedia = mediaAt(stepEvent.at);
    console.log(
      [
        `DUT on the lab grandmaster (virtual time, +30 ppm): lock ${lockTimeS.toFixed(2)} s, offset ${st.offsetNs} ns, drift ${st.driftPpm.toFixed(3)} ppm, rate scalar ${st.rateScalar.toFixed(7)}`,
        `  grandmaster +1 ms step at ${STEP_AT / 1e9} s: DUT servo stepped ${st2.counters.lastStepNs} ns at ${(stepEvent.at / 1e9).toFixed(3)} s; holes in its TX: ${holes.map(([m, n]) => `${n} frames at ${m - restartMedia} frames from the restart`).join(', ')}`,
      ].join('\n'),
    );
    expect(holes.length).toBe(1);
    const stepFrames = 48;
    expect(Math.abs(holes[0][0] - restartMedia)).toBeLessThan(LINK_OFFSET + 4 * BUFFER);
    expect(holes[0][1]).toBeGreaterThanOrEqual(stepFrames + 48);
    expect(holes[0][1]).toBeLessThanOrEqual(stepFrames + 48 + 3 * BUFFER + 48 + 48);

    // The glitch detector finds nothing else, and the sine resumes in phase after each hole.
    const g = detectChannelGlitches(rec.samples, RATE, 0, { frequencyHz: 997, captureStartSample: rec.start, trimSilence: false });
    for (const glitch of g.glitches) {
      const hole = holes.find(([m, n]) => glitch.sample <= m + n + 16 && glitch.sample + glitch.length >= m - 16);
      expect(hole, `glitch at ${glitch.sample} (${glitch.kinds.join(',')}) is one of the holes`).toBeDefined();
      if (glitch.phaseJumpRad !== undefined) expect(Math.abs(glitch.phaseJumpRad)).toBeLessThan(0.05);
    }
    expect(g.glitches.length).toBeGreaterThanOrEqual(1);
    // The RX side counted it too: the sender's skip is missing audio, not late packets.
    const rx = after.receivers[0];
    expect(rx.dropped.late).toBe(before.receivers[0].dropped.late);
  }, 120_000);

  it('a -5 ms grandmaster step (beyond the link offset) is counted as late packets until the DUT steps, then audio resumes', () => {
    const base = linearTimescale(undefined, 0);
    const STEP_AT = 10e9;
    const w = world([{ priority1: 100, script: [{ atNs: STEP_AT, kind: 'step', ns: -5_000_000 }] }], base);
    w.dut.start();
    runVirtual(w.actors, w.network, w.clock, { untilNs: 8e9 });
    expect(w.dut.ptpStatus()!.locked).toBe(true);
    const startMedia = w.dut.mediaTimeAt(w.clock.now());
    const rec = new Recorder(virtualHost(w.network, w.clock, at(31)), w.gms[0].timescale, 0x1234, startMedia, 6 * RATE);
    const before = w.dut.counters();
    runVirtual([...w.actors, rec], w.network, w.clock, { untilNs: 14.5e9 });
    const after = w.dut.counters();
    const st = w.dut.ptpStatus()!;
    const stepEvent = w.dut.events().filter((e) => /stepped .* restarts/.test(e.what)).at(-1)!;
    // The sender's packets, due by the stepped-back time, came 5 ms later than the DUT (still
    // on the old time) needed them: each one late, from the grandmaster's step (after the
    // sender's own 5 ms pause, waiting for its time to come round again) until the DUT's.
    const late = after.receivers[0].dropped.late - before.receivers[0].dropped.late;
    const expectedLate = Math.round((stepEvent.at - STEP_AT) / 1e6) - 5;
    // What the DUT sent: no packet gap (its new time line starts earlier, so it re-sends a
    // few milliseconds of media time rather than skipping any), and one run of silence: the
    // audio the late packets carried.
    const holes = rec.holes();
    const silences: Array<[number, number]> = [];
    for (let k = 0; k < rec.samples.length; ) {
      if (rec.samples[k] !== 0) {
        k++;
        continue;
      }
      const from = k;
      while (k < rec.samples.length && rec.samples[k] === 0) k++;
      if (k - from > 2) silences.push([rec.start + from, k - from]);
    }
    const mediaAt = (local: number) => Number(mediaTimeOf(w.gms[0].timescale.ptpTimeAt(local), RATE));
    console.log(
      `-5 ms step at ${STEP_AT / 1e9} s: DUT stepped ${st.counters.lastStepNs} ns at ${(stepEvent.at / 1e9).toFixed(3)} s; late packets ${late} ` +
        `(one per ms between the two steps less the sender's 5 ms pause: ${expectedLate}); silence in the DUT's TX ${silences.map(([m, n]) => `${n} frames at ${m - mediaAt(STEP_AT)}`).join(', ')}; ` +
        `packet gaps ${holes.length}; restarts +${after.resync.clockSteps - before.resync.clockSteps}`,
    );
    expect(after.resync.clockSteps - before.resync.clockSteps).toBe(1);
    expect(st.counters.lastStepNs).toBeLessThan(-4_990_000);
    expect(st.locked).toBe(true);
    expect(Math.abs(late - expectedLate)).toBeLessThanOrEqual(2);
    expect(holes).toEqual([]);
    expect(silences.length).toBe(1);
    expect(silences[0][1]).toBeGreaterThanOrEqual((late - 2) * 48);
    expect(silences[0][1]).toBeLessThanOrEqual((late + 8) * 48);
    // Nothing wedged: after the DUT's restart the audio flows again to the end of the recording.
    expect(silences[0][0] + silences[0][1]).toBeLessThan(rec.start + rec.samples.length - 3 * RATE);
    expect(rec.filled.every((f) => f === 1)).toBe(true);
    const g = detectChannelGlitches(rec.samples.subarray(rec.samples.length - 3 * RATE), RATE, 0, { frequencyHz: 997, trimSilence: false });
    expect(g.glitches).toEqual([]);
  }, 120_000);

  it('fails over to a second grandmaster on the same time: no glitch, ts-refclk and SAP follow within one announce interval', () => {
    const base = linearTimescale(undefined, -20);
    const SILENCE_AT = 10e9;
    const w = world(
      [
        { priority1: 100, script: [{ atNs: SILENCE_AT, kind: 'silence' }] },
        { priority1: 110, script: [] },
      ],
      base,
    );
    w.dut.start();
    runVirtual(w.actors, w.network, w.clock, { untilNs: 8e9 });
    expect(w.dut.ptpStatus()!.grandmaster).toBe(w.gms[0].identity);
    const sdpBefore = w.dut.txSdp('out');
    const versionOf = (sdp: string) => BigInt(parseSdp(sdp).origin!.sessionVersion);

    const startMedia = w.dut.mediaTimeAt(w.clock.now()) + RATE / 2;
    const rec = new Recorder(virtualHost(w.network, w.clock, at(31)), base, 0x1234, startMedia, 16 * RATE);
    let sapChangedAt: number | undefined;
    const before = w.dut.counters();
    runVirtual([...w.actors, rec], w.network, w.clock, {
      untilNs: 25e9,
      onStep: (t) => {
        const s = w.listener.find('DUT out');
        if (sapChangedAt === undefined && s && refclkOf(s.sdp)?.includes(gmid(w.gms[1].identity))) sapChangedAt = t;
      },
    });
    const after = w.dut.counters();
    const st = w.dut.ptpStatus()!;
    expect(st.grandmaster).toBe(w.gms[1].identity);
    expect(st.counters.grandmasterChanges).toBe(1);
    expect(st.locked).toBe(true);
    const gm2Master = w.gmLog.find((e) => e.gm === 2 && e.what.startsWith('master'))!.at;

    // The SDP names GM2 with the version one up; the SAP announcement carried it.
    const sdpAfter = w.dut.txSdp('out');
    expect(refclkOf(sdpAfter)).toBe(`ptp=IEEE1588-2008:${gmid(w.gms[1].identity)}:0`);
    expect(versionOf(sdpAfter)).toBe(versionOf(sdpBefore) + 1n);
    expect(w.listener.find('DUT out')!.sdp).toBe(sdpAfter);
    expect(sapChangedAt, 'the lab heard the new SDP by SAP').toBeDefined();
    const followed = st.grandmasterSince!;
    console.log(
      `failover: GM1 silent at ${SILENCE_AT / 1e9} s, GM2 master at ${(gm2Master / 1e9).toFixed(3)} s, DUT follows GM2 at ${(followed / 1e9).toFixed(3)} s, ` +
        `SAP with the new ts-refclk heard at ${(sapChangedAt! / 1e9).toFixed(3)} s (${((sapChangedAt! - followed) / 1e6).toFixed(3)} ms after the DUT followed GM2, ${((sapChangedAt! - gm2Master) / 1e9).toFixed(3)} s after GM2 became master); relocked at ${((st.lockedSince ?? NaN) / 1e9).toFixed(3)} s`,
    );
    expect(sapChangedAt! - followed).toBeLessThanOrEqual(ANNOUNCE_INTERVAL_NS);
    expect(sapChangedAt! - followed).toBeGreaterThanOrEqual(0);

    // No restart, no hole, no glitch: the DUT held over on GM1's frequency and GM2 kept the same time.
    expect(after.resync.clockSteps).toBe(before.resync.clockSteps);
    expect(after.resync.configurationChanges).toBe(before.resync.configurationChanges);
    expect(rec.holes()).toEqual([]);
    const g = detectChannelGlitches(rec.samples, RATE, 0, { frequencyHz: 997, captureStartSample: rec.start, trimSilence: false });
    expect(g.glitches).toEqual([]);
    const rx = after.receivers[0];
    expect(rx.playout.framesMissing).toBe(before.receivers[0].playout.framesMissing);
  }, 120_000);
});
