// The round trip through the emulated DUT, in virtual time, crossed with the lab's own
// codecs: a TypeScript sender built only from lab/net/rtp.ts and lab/net/pcm.ts sends L24
// noise into the DUT on the native virtual network; the DUT (C++ receiver, playout buffer,
// device core, HAL host emulator with the loopback client, transmitter) sends it back; a
// TypeScript receiver decodes it. The audio must come back sample-identical, and the
// latency, found by cross-correlating what came back with what was sent, must equal to the
// sample the sum of the configured stages:
//
//   round trip (RTP media time) = link offset            received audio is presented L after its media time
//                                                         (L covers the sender's packetization + the network)
//                               + input safety offset     the HAL reads this far behind the device's now
//                               + IO buffer               ReadInput delivers a whole buffer that has already passed
//                               + IO buffer               WriteMix takes a whole buffer for the cycle after
//                               + output safety offset    ... this far ahead of the device's now
//
// and on the wire each packet leaves one packet time (the output packetization) after its
// first frame's media time. Core Audio's own sum of the device's reported properties —
// (input latency + input safety offset + buffer) + (output safety offset + buffer), with
// the output latency (packetization) on top — must agree with what was measured.
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import { parseRtp, serializeRtp } from '../../lab/net/rtp.ts';
import { decodePcm, encodePcm } from '../../lab/net/pcm.ts';
import { linearTimescale, mediaTimeOf, ptpTimeOfSample, rtpTimestampOf } from '../../lab/net/ptp-timescale.ts';
import { runVirtual, virtualHost, type TimedActor } from '../../lab/net/lab-transport.ts';

const native = loadNative();

const SENDER = '10.67.130.1';
const DUT = '10.67.130.2';
const LAB = '10.67.130.3';
const TO_DUT = '239.67.130.1:5004';
const FROM_DUT = '239.67.130.2:5004';
const NETWORK_DELAY_NS = 100_000;
const IN_OFFSET = 0x00001234; // a=mediaclk:direct= of the stream into the DUT
const OUT_OFFSET = 0xabcdef01; // ... and of the stream out of it
const CHANNELS = 2;
const FULL = 2 ** 23;

/** Seeded 24-bit noise, one sequence per channel: unique enough to find by correlation. */
function noise(frames: number, seed: number): Int32Array {
  const out = new Int32Array(frames * CHANNELS);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x >>> 8) - FULL;
  }
  return out;
}

/** The media time nearest `reference` whose RTP timestamp (with `offset`) is `ts`. */
function unwrap(ts: number, offset: number, reference: number): number {
  const low = (ts - offset) >>> 0;
  const refLow = reference % 2 ** 32;
  return reference + ((low - refLow) | 0);
}

interface Case {
  ptimeUs: number;
  buffer: number;
  rate: number;
}

const CASES: Case[] = [];
for (const ptimeUs of [125, 1000]) for (const buffer of [32, 256]) for (const rate of [48000, 96000]) CASES.push({ ptimeUs, buffer, rate });

function roundTrip({ ptimeUs, buffer, rate }: Case) {
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, NETWORK_DELAY_NS);
  const timescale = linearTimescale();
  const epoch = timescale.ptpTimeAt(0); // PTP time at local 0: every host shares it (PTP locked)
  const mediaNow = (localNs: number) => Number(mediaTimeOf(timescale.ptpTimeAt(localNs), rate));
  const localTimeOfSample = (m: number) => timescale.localTimeOf(ptpTimeOfSample(BigInt(m), rate));
  const packetFrames = (rate * ptimeUs) / 1e6;
  expect(Number.isInteger(packetFrames)).toBe(true);
  // Link offset: three packet times, enough for the packetization and the 100 us network.
  const linkOffset = 3 * packetFrames;

  const sender = virtualHost(network, clock, SENDER);
  const lab = virtualHost(network, clock, LAB);
  virtualHost(network, clock, DUT);
  const stream = { encoding: 'L24' as const, channels: CHANNELS, sampleRate: rate, payloadType: 97, framesPerPacket: packetFrames };
  const dut = new native.EmulatedDut(network, DUT, {
    device: { name: 'DUT', inputChannels: 8, outputChannels: 8, sampleRate: rate },
    ioBufferFrames: buffer,
    linkOffsetFrames: linkOffset,
    ptpEpochNs: epoch,
    receive: [{ ...stream, name: 'Lab sender', destination: TO_DUT, mediaclkOffset: IN_OFFSET, deviceChannels: [2, 5] }],
    transmit: [{ ...stream, name: 'DUT out', destination: FROM_DUT, mediaclkOffset: OUT_OFFSET, deviceChannels: [2, 5] }],
  });

  // The sender: AES67 style, each packet stamped with its first frame's media time and sent
  // when its last frame is due.
  const frames = Math.round(rate * 0.15);
  const audio = noise(frames, rate + buffer + ptimeUs);
  const m0 = mediaNow(0) + rate / 100; // audio starts 10 ms in
  const txSocket = sender.open({ dscp: 34 });
  let nextPacket = 0;
  const senderActor: TimedActor = {
    poll(now) {
      for (;;) {
        const first = nextPacket * packetFrames;
        if (first >= frames) return Infinity;
        const due = localTimeOfSample(m0 + first + packetFrames);
        if (due > now) return due;
        const samples = new Float32Array(packetFrames * CHANNELS);
        for (let i = 0; i < samples.length; i++) samples[i] = audio[first * CHANNELS + i] / FULL;
        txSocket.send(
          TO_DUT,
          serializeRtp({
            padding: false,
            marker: false,
            payloadType: 97,
            sequenceNumber: nextPacket & 0xffff,
            timestamp: rtpTimestampOf(BigInt(m0 + first), IN_OFFSET),
            ssrc: 0x1ab5e9d,
            csrcs: [],
            payload: encodePcm(samples, 'L24'),
          }),
        );
        nextPacket++;
      }
    },
  };

  // The lab's receiver: decodes what the DUT sends, keyed by media time.
  const rxSocket = lab.open({ port: 5004, bindAddress: '239.67.130.2' });
  rxSocket.join('239.67.130.2');
  const back = new Map<number, Int32Array>();
  const departures: number[] = []; // arrival - network delay - media time of the first frame, ns
  const receiverActor: TimedActor = {
    poll() {
      for (let d = rxSocket.receive(); d; d = rxSocket.receive()) {
        const p = parseRtp(d.data);
        expect(p.payloadType).toBe(97);
        expect(d.dscp).toBe(34);
        const samples = decodePcm(p.payload, 'L24');
        const n = samples.length / CHANNELS;
        expect(n).toBe(packetFrames);
        const m = unwrap(p.timestamp, OUT_OFFSET, mediaNow(d.receivedAt));
        departures.push(d.receivedAt - NETWORK_DELAY_NS - localTimeOfSample(m));
        for (let i = 0; i < n; i++) {
          back.set(m + i, Int32Array.from([Math.round(samples[i * 2] * FULL), Math.round(samples[i * 2 + 1] * FULL)]));
        }
      }
      return Infinity;
    },
  };
  const dutActor: TimedActor = { poll: () => dut.poll() ?? Infinity };

  dut.start();
  runVirtual([senderActor, dutActor, receiverActor], network, clock, { untilNs: 250_000_000 });

  // Where did the signal come back? Cross-correlate the first 4096 frames of channel 0
  // against what came back, over every lag up to 50 ms.
  const window = 4096;
  let bestLag = -1;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= rate / 20; lag++) {
    let score = 0;
    for (let i = 0; i < window; i++) {
      const got = back.get(m0 + i + lag);
      if (got) score += (audio[i * 2] / FULL) * (got[0] / FULL);
    }
    if (score > bestScore) {
      bestScore = score;
      bestLag = lag;
    }
  }
  // Sample-identical at that lag, every frame, both channels.
  let identical = 0;
  for (let i = 0; i < frames; i++) {
    const got = back.get(m0 + i + bestLag);
    if (!got) continue;
    if (got[0] === audio[i * 2] && got[1] === audio[i * 2 + 1]) identical++;
  }
  return {
    dut,
    linkOffset,
    packetFrames,
    frames,
    measured: bestLag,
    identical,
    departures,
    properties: dut.properties(),
    counters: dut.counters(),
    timeline: dut.timeline(),
  };
}

describe('emulated DUT round trip (virtual time, lab codecs)', () => {
  const results: string[] = [];

  it.each(CASES)('ptime $ptimeUs us, buffer $buffer, $rate Hz: sample-identical, latency = sum of stages', (c) => {
    const r = roundTrip(c);
    const p = r.properties;
    // The stages as configured.
    const expected = r.linkOffset + r.packetFrames + 2 * c.buffer + r.packetFrames;
    expect(r.measured).toBe(expected);
    expect(r.identical).toBe(r.frames);

    // The device's reported properties are those stages: Core Audio's sum agrees.
    expect(p.ioBufferFrames).toBe(c.buffer);
    expect(p.inputLatencyFrames).toBe(r.linkOffset);
    expect(p.inputSafetyOffsetFrames).toBe(r.packetFrames);
    expect(p.outputSafetyOffsetFrames).toBe(r.packetFrames);
    expect(p.outputLatencyFrames).toBe(r.packetFrames);
    expect(p.inputLatencyFrames + p.inputSafetyOffsetFrames + p.ioBufferFrames + (p.outputSafetyOffsetFrames + p.ioBufferFrames)).toBe(r.measured);
    // Output packetization on the wire: every packet left one packet time after its first
    // frame's media time (to the nanosecond's rounding), which is the output latency.
    const packetNs = (r.packetFrames * 1e9) / c.rate;
    expect(r.departures.length).toBeGreaterThan(0);
    for (const d of r.departures) expect(Math.abs(d - packetNs)).toBeLessThanOrEqual(1);
    expect(Math.round((Math.max(...r.departures) * c.rate) / 1e9)).toBe(p.outputLatencyFrames);
    expect(p.inputChannelNames[2]).toBe('Lab sender 1');
    expect(p.outputChannelNames[5]).toBe('DUT out 2');

    // The input side's budget: packets arrived packetization + network after their media
    // time, inside the link offset.
    const rx = r.counters.receivers[0];
    expect(Math.abs(rx.transitMaxNs - (packetNs + NETWORK_DELAY_NS))).toBeLessThanOrEqual(1);
    expect(rx.transitMaxNs).toBeLessThan((r.linkOffset * 1e9) / c.rate);

    // Nothing lost, late, missing or discontinuous on the way.
    expect(rx.dropped).toEqual(Object.fromEntries(Object.keys(rx.dropped).map((k) => [k, 0])));
    expect(rx.accepted).toBe(r.frames / r.packetFrames);
    expect(rx.playout.framesPlayed).toBe(r.frames);
    expect(rx.playout.latePackets).toBe(0);
    const tx = r.counters.transmitters[0];
    expect(tx.waitingForAudio).toBe(0);
    expect(tx.ringOverflowFrames + tx.ringGaps).toBe(0);
    expect(r.counters.device.inputDiscontinuities + r.counters.device.outputDiscontinuities).toBe(0);
    expect(r.counters.host.ioErrors).toBe(0);

    // The stage stamps attribute the same latency: presentation = media time + L, each
    // cycle reads buffer + input safety behind now and writes buffer + output safety ahead.
    const anchor = r.timeline.anchor;
    const packets = r.dut.packetStamps();
    const received = packets.filter((s) => s.direction === 'received');
    const sent = packets.filter((s) => s.direction === 'sent');
    expect(received.length).toBe(rx.received);
    for (const s of received) expect(s.deviceTime - (s.mediaTime - anchor)).toBe(r.linkOffset);
    expect(sent.length).toBe(tx.packetsSent);
    for (const s of sent) expect(Math.abs(s.hostTime - localTimeOfSampleFor(c.rate)(s.mediaTime + r.packetFrames))).toBeLessThanOrEqual(1);
    const cycles = r.dut.cycleStamps();
    expect(cycles.length).toBe(r.counters.host.cycles);
    for (const s of cycles) {
      expect(s.currentTime - s.inputTime).toBe(c.buffer + p.inputSafetyOffsetFrames);
      expect(s.outputTime - s.currentTime).toBe(c.buffer + p.outputSafetyOffsetFrames);
      expect(s.mediaCurrentTime - s.currentTime).toBe(anchor);
    }
    results.push(
      `ptime ${String(c.ptimeUs).padStart(4)} us  buffer ${String(c.buffer).padStart(3)}  ${c.rate} Hz: ` +
        `round trip ${r.measured} frames = L ${r.linkOffset} + Sin ${p.inputSafetyOffsetFrames} + 2x${c.buffer} + Sout ${p.outputSafetyOffsetFrames}` +
        ` (${((r.measured / c.rate) * 1e3).toFixed(3)} ms; on the wire +${p.outputLatencyFrames} frames packetization)`,
    );
    if (results.length === CASES.length) console.log(results.join('\n'));
  });

  it('refuses a configuration error with the stream named', () => {
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock);
    network.addHost('dut', DUT);
    const stream = { name: 'S', destination: TO_DUT, encoding: 'L24' as const, channels: 2, sampleRate: 96000, framesPerPacket: 48 };
    expect(() => new native.EmulatedDut(network, DUT, { receive: [{ ...stream, deviceChannels: [0, 1] }] })).toThrow(
      "stream 'S' runs at 96000 Hz but the device at 48000 Hz",
    );
    expect(
      () =>
        new native.EmulatedDut(network, DUT, {
          device: { sampleRate: 96000 },
          linkOffsetFrames: 24,
          receive: [{ ...stream, deviceChannels: [0, 1] }],
        }),
    ).toThrow(/link offset 24 frames is shorter than stream 'S''s packet time/);
    expect(() => new native.EmulatedDut(network, DUT, { receive: [{ ...stream, encoding: 'L20' as never, deviceChannels: [0] }] })).toThrow(
      "receive[0].encoding must be 'L16', 'L24' or 'L32'",
    );
  });
});

function localTimeOfSampleFor(rate: number) {
  const timescale = linearTimescale();
  return (m: number) => timescale.localTimeOf(ptpTimeOfSample(BigInt(m), rate));
}
