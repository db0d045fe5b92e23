import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { parseRtp } from '../net/rtp.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';
import { withTempDir } from '../net/test-support.ts';
import { tsharkRtpStreams } from '../analyze/tshark-rtp-streams.ts';
import { ImpairmentModel, impairmentHook } from '../impair/impairment.ts';
import { sine } from '../signal/sine.ts';
import { Aes67Sender } from './aes67-sender.ts';
import { Aes67Receiver } from './aes67-receiver.ts';
import { DanteAes67Sender } from './dante-aes67-sender.ts';
import { SapAnnouncer } from './sap-announcer.ts';
import { SapListener } from './sap-listener.ts';
import { readWav } from './test-support.ts';

const GM = '00-1D-C1-FF-FE-50-36-33';
const SIGNAL = { frequencyHz: 997, levelDbfs: -20, channelStepHz: 100 };

function world(baseDelayNs = 30_000) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, baseDelayNs);
  return { clock, network, tx: virtualHost(network, clock, '10.67.143.1'), rx: virtualHost(network, clock, '10.67.143.2'), tapHost: virtualHost(network, clock, '10.67.143.3'), timescale: linearTimescale() };
}

/** A raw socket on another host that keeps every datagram with its arrival time: the reference bookkeeping. */
function tap(t: LabTransport, port: number, group: string) {
  const s = t.open({ port, receiveQueueLimit: 1 << 20 });
  s.join(group);
  const got: { at: number; source: string; destination: string; data: Buffer }[] = [];
  const actor: TimedActor = {
    poll() {
      for (let d = s.receive(); d; d = s.receive()) got.push({ at: d.receivedAt, source: d.source, destination: d.destination, data: d.data });
      return Infinity;
    },
  };
  return { actor, got, close: () => s.close() };
}

function sender(t: LabTransport, timescale: ReturnType<typeof linearTimescale>, extra: Partial<ConstructorParameters<typeof Aes67Sender>[0]> = {}) {
  return new Aes67Sender({ transport: t, timescale, destination: '239.69.143.1', channels: 2, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'sine', ...SIGNAL }, mediaclkOffset: 987_654_321, ...extra });
}

describe.skipIf(!addonBuilt())('Aes67Receiver in virtual time', () => {
  it('counts loss, duplicates and reordering as the impairment model made them, and places audio by media time', () => {
    const w = world();
    const model = new ImpairmentModel({ seed: 31, loss: 0.02, duplicate: { probability: 0.01 }, reorder: { probability: 0.01, holdNs: 3_500_000 }, delayNs: 1_000_000, jitter: { distribution: 'normal', sdNs: 100_000 } });
    w.network.setImpairment(impairmentHook(model));
    const s = sender(w.tx, w.timescale);
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: s.sdp() });
    const ref = tap(w.tapHost, 5004, '239.69.143.1');
    runVirtual([s, receiver, ref.actor], w.network, w.clock, { untilNs: 5e9 });
    s.close();
    runVirtual([receiver, ref.actor], w.network, w.clock, { untilNs: 5.1e9 });
    const m = receiver.metrics()!;

    // Reference from the tap: a set of sequence numbers, in arrival order.
    const seqs = ref.got.map((g) => parseRtp(g.data).sequenceNumber);
    const unwrap = (x: number) => (x - seqs[0] + 0x10000) % 0x10000;
    const unique = new Set(seqs.map(unwrap));
    const span = Math.max(...unique) - Math.min(...unique) + 1;
    let late = 0;
    let max = -1;
    const seen = new Set<number>();
    for (const q of seqs.map(unwrap)) {
      if (seen.has(q)) continue;
      seen.add(q);
      if (q < max) late++;
      else max = q;
    }
    expect(m.packets).toBe(unique.size);
    expect(m.duplicates).toBe(seqs.length - unique.size);
    expect(m.lost).toBe(span - unique.size);
    expect(m.reordered).toBe(late);
    // ... and those are the model's own decisions (the tail after the last arrival aside).
    expect(m.duplicates).toBe(model.counters.duplicated);
    expect(m.reordered).toBe(model.counters.reordered);
    expect(Math.abs(m.lost - model.counters.lostRandom)).toBeLessThanOrEqual(2);
    expect(m.lost).toBeGreaterThan(50);

    // Every frame a packet carried (per the tap's RTP timestamps) equals the signal at its
    // absolute index; every frame no packet carried is silent, and those are the missing ones.
    const a = receiver.audio()!;
    const frames = a.interleaved.length / 2;
    const covered = new Uint8Array(frames);
    const first32 = Number((a.firstSample + BigInt(s.mediaclkOffset)) % 2n ** 32n);
    for (const g of ref.got) {
      const at = (parseRtp(g.data).timestamp - first32) >>> 0;
      for (let f = at; f < at + 48 && f < frames; f++) covered[f] = 1;
    }
    const want = sine(SIGNAL, 48000).render(Number(a.firstSample), frames, 2);
    let uncovered = 0;
    let wrong = 0;
    for (let f = 0; f < frames; f++) {
      for (const c of [0, 1]) {
        const i = 2 * f + c;
        if (covered[f] ? Math.abs(a.interleaved[i] - want[i]) > 2 ** -23 : a.interleaved[i] !== 0) wrong++;
      }
      if (!covered[f]) uncovered++;
    }
    expect(wrong).toBe(0);
    expect(a.missingFrames).toBe(uncovered);
    expect(a.missingFrames).toBe(m.lost * 48);
    receiver.close();
  });

  it('measures arrival against the media clock: packet time + network delay, exactly in virtual time', () => {
    const w = world(30_000);
    const model = new ImpairmentModel({ seed: 1, delayNs: 1_000_000 });
    w.network.setImpairment(impairmentHook(model));
    const s = sender(w.tx, w.timescale, { framesPerPacket: 6 });
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: s.sdp() });
    runVirtual([s, receiver], w.network, w.clock, { untilNs: 0.2e9 });
    const m = receiver.metrics()!;
    // A 125 µs packet leaves when its last sample exists (first sample + 6/48000 s, rounded up to
    // the next ns by the virtual clock), then 30 µs + 1 ms on the wire.
    const expected = 125_000 + 30_000 + 1_000_000;
    expect(m.arrivalMinNs).toBeGreaterThanOrEqual(expected);
    expect(m.arrivalMaxNs).toBeLessThanOrEqual(expected + 1);
    expect(m.jitterMaxNs).toBeLessThan(1);
  });

  it('computes RFC 3550 jitter as Wireshark does (tshark -z rtp,streams on what the receiver got, SDP from SAP)', () => {
    const w = world();
    const model = new ImpairmentModel({ seed: 5, delayNs: 2_000_000, jitter: { distribution: 'uniform', sdNs: 200_000 } });
    w.network.setImpairment(impairmentHook(model));
    const s = sender(w.tx, w.timescale);
    const sap = new SapAnnouncer({ transport: w.tx, group: '239.255.255.255', intervalNs: 1e9, sdp: s.sdp() });
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: s.sdp() });
    const rtp = tap(w.tapHost, 5004, '239.69.143.1');
    const sapTap = tap(w.tapHost, 9875, '239.255.255.255');
    runVirtual([sap, s, receiver, rtp.actor, sapTap.actor], w.network, w.clock, { untilNs: 3e9 });
    withTempDir((dir) => {
      const file = path.join(dir, 'received.pcapng');
      const writer = new PcapngWriter(file);
      const ifc = writer.addInterface({ linkType: LINKTYPE_ETHERNET });
      const all = [...sapTap.got, ...rtp.got].sort((a, b) => a.at - b.at);
      for (const g of all) {
        const [sip, sport] = g.source.split(':');
        const [dip, dport] = g.destination.split(':');
        writer.writePacket(ifc, 1_767_225_600_000_000_000n + BigInt(g.at), buildUdpFrame({ sourceIp: sip, destinationIp: dip, sourcePort: Number(sport), destinationPort: Number(dport), payload: g.data }));
      }
      writer.close();
      const theirs = tsharkRtpStreams(file, []);
      expect(theirs).toHaveLength(1);
      expect(theirs[0].packets).toBe(receiver.metrics()!.packets);
      expect(Number(theirs[0].maxJitterMs)).toBeGreaterThan(0.01);
      expect(Math.abs(receiver.metrics()!.jitterMaxNs / 1e6 - Number(theirs[0].maxJitterMs))).toBeLessThanOrEqual(0.0015);
    });
  });

  it('subscribes from a SAP session and follows SDP updates, resubscribing only when the stream itself changes', () => {
    const w = world();
    const dante = new DanteAes67Sender({ transport: w.tx, timescale: w.timescale, deviceName: 'AVIOUSB-1', channels: 2, signal: { kind: 'sine', ...SIGNAL }, grandmaster: GM });
    const listener = new SapListener({ transport: w.rx });
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: listener.sdpSource('AVIOUSB-1 : 1') });
    runVirtual([dante, listener, receiver], w.network, w.clock, { untilNs: 1e9 });
    expect(receiver.state).toBe('receiving');
    dante.setGrandmaster('00-1D-C1-FF-FE-00-00-02');
    runVirtual([dante, listener, receiver], w.network, w.clock, { untilNs: 2e9 });
    expect(receiver.sdpUpdates).toBe(1);
    expect(receiver.subscriptions).toHaveLength(1);
    expect(receiver.stream!.ptpRefclk).toEqual({ gmid: '00-1D-C1-FF-FE-00-00-02', domain: 0 });
    const a = receiver.audio()!;
    expect(a.missingFrames).toBe(0);
    expect(a.interleaved.length / 2).toBeGreaterThan(1.9 * 48000);

    // A changed stream (another group) is a new subscription that receives from the new place.
    let text = receiver.sdp!;
    const source = { current: () => text };
    const r2 = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source });
    runVirtual([dante, listener, r2], w.network, w.clock, { untilNs: 2.1e9 });
    const s2 = sender(w.tx, w.timescale, { destination: '239.69.143.77', sessionName: 'moved' });
    text = s2.sdp();
    runVirtual([dante, listener, r2, s2], w.network, w.clock, { untilNs: 2.3e9 });
    expect(r2.subscriptions).toHaveLength(2);
    expect(r2.subscriptions[0].metrics.packets).toBeGreaterThan(50);
    expect(r2.current!.metrics.packets).toBeGreaterThan(150);
    expect(r2.current!.stream.destination).toBe('239.69.143.77');
    dante.close();
  });

  it('an SSRC change (a sender reboot) is counted once; loss is counted per SSRC run and the audio goes on by media time', () => {
    const w = world();
    const a = sender(w.tx, w.timescale, { ssrc: 0x1111, initialSequence: 65000 });
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: a.sdp() });
    runVirtual([a, receiver], w.network, w.clock, { untilNs: 1e9 });
    a.close();
    // The "rebooted" sender: same SDP stream, new SSRC and sequence, after a 20 ms gap.
    const b = sender(w.tx, w.timescale, { ssrc: 0x2222, initialSequence: 7, startAtNs: 1.02e9 });
    runVirtual([b, receiver], w.network, w.clock, { untilNs: 2e9 });
    b.close();
    runVirtual([receiver], w.network, w.clock, { untilNs: 2.001e9 });
    const m = receiver.metrics()!;
    expect(m.ssrcChanges).toBe(1);
    expect(m.ssrc).toBe(0x2222);
    expect(m.lost).toBe(0);
    expect(m.packets).toBe(a.stats.packets + b.stats.packets);
    // Only the 20 ms nobody sent are silent.
    const gap = receiver.audio()!.missingFrames;
    expect(gap).toBeGreaterThanOrEqual(0.02 * 48000 - 48);
    expect(gap).toBeLessThanOrEqual(0.02 * 48000 + 48);
  });

  it('several senders on one group and port: a source filter keeps only its own', () => {
    const w = world();
    const a = sender(w.tx, w.timescale, { sessionName: 'A' });
    const b = sender(w.tapHost, w.timescale, { sessionName: 'B', signal: { kind: 'silence' } });
    const onlyA = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: a.sdp() });
    expect(onlyA.stream!.sourceFilter).toBe('10.67.143.1');
    runVirtual([a, b, onlyA], w.network, w.clock, { untilNs: 0.5e9 });
    a.close();
    b.close();
    runVirtual([onlyA], w.network, w.clock, { untilNs: 0.501e9 });
    expect(onlyA.metrics()!.ssrcChanges).toBe(0);
    expect(onlyA.metrics()!.ssrc).toBe(a.ssrc);
    expect(onlyA.metrics()!.packets).toBe(a.stats.packets);
    expect(b.stats.packets).toBeGreaterThan(400);
  });

  it('counts and drops bad datagrams by reason, never throws; a bad SDP is an error state naming the line', () => {
    const w = world();
    const s = sender(w.tx, w.timescale);
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: s.sdp() });
    const junk = w.tx.open(); // from the SDP's source: the source filter lets it through
    junk.send('239.69.143.1:5004', Buffer.from([1, 2, 3]));
    junk.send('239.69.143.1:5004', Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9])); // 1-byte payload
    junk.send('239.69.143.1:5004', Buffer.from([0x80, 0x08, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9])); // PT 8
    runVirtual([receiver], w.network, w.clock, { untilNs: 1e6 });
    expect(receiver.metrics()!.dropped).toEqual({ 'rtp-truncated': 1, 'payload-length': 1, 'payload-type': 1 });
    expect(receiver.metrics()!.packets).toBe(0);
    const bad = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=x\r\nc=IN IP4 239.1.1.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=ptime:1\r\n' });
    expect(bad.state).toBe('error');
    expect(bad.error).toMatch(/line 7: unsupported-encoding/);
    expect(() => bad.writeWav('/nonexistent/x.wav')).toThrow(/no audio to write/);
  });

  it('records a WAV that ffprobe reads with the stream\'s channels, rate and word size', () => {
    const w = world();
    const s = sender(w.tx, w.timescale, { channels: 3, encoding: 'L16', framesPerPacket: 12, sampleRate: 96000 });
    const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: s.sdp() });
    runVirtual([s, receiver], w.network, w.clock, { untilNs: 0.5e9 });
    withTempDir((dir) => {
      const file = path.join(dir, 'rx.wav');
      receiver.writeWav(file);
      const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' }));
      expect(probe.streams[0]).toMatchObject({ channels: 3, sample_rate: '96000', codec_name: 'pcm_s16le' });
      const wav = readWav(file);
      expect(wav.frames).toBe(receiver.audio()!.interleaved.length / 3);
    });
  });
});
