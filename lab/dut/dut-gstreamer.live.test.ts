// Crossing: the software DUT (aes67-dut) in network namespace B between GStreamer in A
// (audiotestsrc ! rtpL24pay/rtpL16pay ! udpsink) and GStreamer or ffmpeg in C. The DUT
// receives GStreamer's stream (described by an SDP file with neither ts-refclk nor
// mediaclk, as a GStreamer sender has no PTP clock: the DUT anchors it as sender-clocked),
// its loopback client copies inputs to outputs, and it sends the audio back out; what comes
// back is judged by the lab's glitch detector and sine fit, not by the DUT's counters.
//   (a) GStreamer records the DUT's stream (udpsrc ! rtpL24depay ! wavenc): L24 1 ms
//       48 kHz stereo, L16 125 µs 48 kHz stereo, L24 250 µs 96 kHz 8 channels (1 ms at
//       96 kHz x 8 channels would not fit one 1500-byte frame).
//   (b) ffmpeg reads the SDP the DUT serves on GET /streams/<id>/sdp and records the right
//       channel count, rate and a continuous tone.
// The DUT's link offset is 100 ms here: GStreamer paces packets in software, and on a busy
// 2-core CI host it was measured stalling for up to ~50 ms; a receiver's link offset must
// cover its senders' jitter. Under `npm test` (two test workers, other live tests, builds)
// the peers stalled for hundreds of ms, so they run SCHED_FIFO (chrt -f 20, below the DUT's
// threads) when permitted, and the recorder's socket holds 4 MiB (as the lab's own sender
// crossing does). Every process is killed, every namespace deleted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { checkTone, missingForDut, readWav, chrtWorks, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['gst-launch-1.0', 'ffmpeg']) : usable.reason;
const SUBNET = 133;
const IN_GROUP = `239.69.${SUBNET}.1`;
const OUT_GROUP = `239.69.${SUBNET}.2`;
const TONE_HZ = 997;
const RECORD_MS = 4_000;

interface Case {
  encoding: 'L16' | 'L24';
  rate: number;
  channels: number;
  ptimeUs: number;
}

const CASES: Case[] = [
  { encoding: 'L24', rate: 48_000, channels: 2, ptimeUs: 1000 },
  { encoding: 'L16', rate: 48_000, channels: 2, ptimeUs: 125 },
  { encoding: 'L24', rate: 96_000, channels: 8, ptimeUs: 250 },
];

const ptimeText = (us: number) => String(us / 1000);

describe.skipIf(missing !== undefined)(`aes67-dut between GStreamer and GStreamer / ffmpeg (${missing ?? 'root, gst-launch-1.0, ffmpeg'})`, () => {
  let net: Netns | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67dxg-'));
  const running: DutProcess[] = [];

  beforeAll(() => {
    net = createNetns({ prefix: 'a67dxg', hosts: ['a', 'b', 'c'], subnet: SUBNET });
  });
  afterAll(async () => {
    for (const d of running) await d.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the DUT in B with GStreamer's stream in and the loopback out. */
  async function startDut(c: Case, name: string): Promise<DutProcess> {
    const sdp = [
      'v=0',
      `o=- 1 1 IN IP4 10.67.${SUBNET}.1`,
      `s=GStreamer ${name}`,
      `c=IN IP4 ${IN_GROUP}/32`,
      't=0 0',
      'm=audio 5004 RTP/AVP 96',
      `a=rtpmap:96 ${c.encoding}/${c.rate}/${c.channels}`,
      `a=ptime:${ptimeText(c.ptimeUs)}`,
      '',
    ].join('\r\n');
    writeFileSync(path.join(dir, `${name}.sdp`), sdp);
    const channels = Array.from({ length: c.channels }, (_, i) => i + 1);
    const config = {
      interface: 'eth0',
      device: { inputChannels: 8, outputChannels: 8, sampleRate: c.rate, ioBufferFrames: 64, linkOffsetFrames: c.rate / 10 },
      rx: [{ id: 'gst', sdpFile: `${name}.sdp`, channels }],
      tx: [{ id: 'back', name: `DUT ${name}`, destination: `${OUT_GROUP}:5004`, encoding: c.encoding, ptimeUs: c.ptimeUs, channelMap: channels }],
      control: { listen: `unix:${path.join(dir, `${name}.sock`)}` },
      stateDir: dir,
    };
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const dut = await attachDut(net!.spawn('b', DUT_BINARY, ['--config', file]));
    running.push(dut);
    return dut;
  }

  /** A peer at SCHED_FIFO 20 when chrt may do that, else as it is. */
  const rt = (cmd: string, args: string[]): [string, string[]] => (chrtWorks ? ['chrt', ['-f', '20', cmd, ...args]] : [cmd, args]);

  function startSender(c: Case) {
    const pay = c.encoding === 'L24' ? 'rtpL24pay' : 'rtpL16pay';
    const format = c.encoding === 'L24' ? 'S24BE' : 'S16BE';
    const ptimeNs = c.ptimeUs * 1000;
    return net!.spawn('a', ...rt('gst-launch-1.0', [
      '-q',
      'audiotestsrc', 'is-live=true', `freq=${TONE_HZ}`, 'volume=0.5', `samplesperbuffer=${(c.rate * c.ptimeUs) / 1e6}`,
      '!', `audio/x-raw,format=${format},rate=${c.rate},channels=${c.channels}`,
      '!', pay, `min-ptime=${ptimeNs}`, `max-ptime=${ptimeNs}`, 'pt=96',
      '!', 'udpsink', `host=${IN_GROUP}`, 'port=5004', 'multicast-iface=eth0',
    ]));
  }

  async function stop(child: ReturnType<Netns['spawn']>, signal: NodeJS.Signals) {
    const out = collect(child);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await out.exited;
    clearTimeout(timer);
  }

  it.each(CASES)('(a) $encoding $ptimeUs us $rate Hz $channels ch: GStreamer -> DUT loopback -> GStreamer, the tone with no glitch', async (c) => {
    const name = `${c.encoding}-${c.ptimeUs}-${c.rate}-${c.channels}`;
    const dut = await startDut(c, name);
    const wav = path.join(dir, `${name}.wav`);
    const depay = c.encoding === 'L24' ? 'rtpL24depay' : 'rtpL16depay';
    const recorder = net!.spawn('c', ...rt('gst-launch-1.0', [
      '-e',
      'udpsrc', `address=${OUT_GROUP}`, 'port=5004', 'multicast-iface=eth0', 'buffer-size=4194304',
      `caps=application/x-rtp,media=audio,clock-rate=${c.rate},encoding-name=${c.encoding},channels=${c.channels},payload=96`,
      '!', depay, '!', 'audioconvert', '!', 'audio/x-raw,format=S24LE', '!', 'wavenc', '!', 'filesink', `location=${wav}`,
    ]));
    const recorderOut = collect(recorder);
    const sender = startSender(c);
    await sleep(RECORD_MS);
    const status = await dut.client.status();
    await stop(recorder, 'SIGINT'); // -e: EOS, so wavenc writes its header
    await stop(sender, 'SIGTERM');
    expect(await dut.stop(), dut.stderr).toBe(0);
    expect(dut.stderr).toContain('SAP deletions sent');

    const rx = status.streams.rx[0];
    const tx = status.streams.tx[0];
    const w = readWav(wav);
    const tones = checkTone(w, TONE_HZ);
    console.log(
      `${name}: recorded ${w.channels.length} ch at ${w.sampleRate} Hz, ${tones[0].seconds.toFixed(2)} s of tone; ` +
        `fit ${tones.map((t) => t.fit.frequencyHz.toFixed(3)).join('/')} Hz, amplitude ${tones[0].fit.amplitude.toFixed(4)}, ` +
        `glitches ${tones.map((t) => t.glitches.glitches.length).join('/')}; DUT rx accepted ${rx.counters.accepted}, late ${(rx.counters.dropped as Record<string, number>).late}, ` +
        `anchoring ${JSON.stringify(rx.anchoring)}, tx sent ${tx.counters.packetsSent}, latenessMax ${((tx.counters.latenessMaxNs as number) / 1e6).toFixed(1)} ms`,
    );
    expect(recorderOut.stderr).not.toMatch(/ERROR/);
    expect(w.sampleRate).toBe(c.rate);
    expect(w.channels.length).toBe(c.channels);
    expect(rx.senderClocked).toBe(true);
    expect(rx.format).toMatchObject({ encoding: c.encoding, channels: c.channels, sampleRate: c.rate, framesPerPacket: (c.rate * c.ptimeUs) / 1e6 });
    for (const t of tones) {
      expect(t.seconds, `channel ${t.channel}: tone long enough`).toBeGreaterThan(2);
      expect(Math.abs(t.fit.frequencyHz - TONE_HZ), `channel ${t.channel} frequency`).toBeLessThan(0.5);
      expect(t.fit.amplitude).toBeGreaterThan(0.45);
      expect(t.fit.amplitude).toBeLessThan(0.55);
      expect(t.glitches.glitches, `channel ${t.channel}: no glitch`).toEqual([]);
    }
    // What the DUT saw agrees: every packet placed, none late, anchored once.
    expect((rx.counters.dropped as Record<string, number>).late).toBe(0);
    expect(rx.playout.glitches).toBe(0);
    expect(rx.anchoring?.anchors).toBe(1);
    expect(tx.counters.packetsSent).toBeGreaterThan(0);
  }, 60_000);

  it('(b) ffmpeg records the DUT stream from the SDP the DUT serves: right channels and rate, continuous tone', async () => {
    const c: Case = { encoding: 'L24', rate: 48_000, channels: 2, ptimeUs: 1000 };
    const dut = await startDut(c, 'ffmpeg');
    const sender = startSender(c);
    await sleep(1_000);
    const sdp = await dut.client.sdp('back');
    const sdpFile = path.join(dir, 'dut.sdp');
    writeFileSync(sdpFile, sdp);
    expect(sdp).toContain(`c=IN IP4 ${OUT_GROUP}/32`);
    const wav = path.join(dir, 'ffmpeg.wav');
    const ffmpeg = net!.spawn('c', ...rt('ffmpeg', ['-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-t', '4', '-c:a', 'pcm_s24le', '-y', wav]));
    const out = collect(ffmpeg);
    const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), 30_000);
    const code = await out.exited;
    clearTimeout(timer);
    const status = await dut.client.status();
    await stop(sender, 'SIGTERM');
    expect(await dut.stop()).toBe(0);
    expect(code, out.stderr).toBe(0);

    const w = readWav(wav);
    const tones = checkTone(w, TONE_HZ);
    console.log(`ffmpeg from the DUT's SDP: ${w.channels.length} ch, ${w.sampleRate} Hz, ${tones[0].seconds.toFixed(2)} s of tone at ${tones[0].fit.frequencyHz.toFixed(3)} Hz, glitches ${tones.map((t) => t.glitches.glitches.length).join('/')}`);
    expect(w.sampleRate).toBe(48_000);
    expect(w.channels.length).toBe(2);
    for (const t of tones) {
      expect(t.seconds).toBeGreaterThan(3.5);
      expect(Math.abs(t.fit.frequencyHz - TONE_HZ)).toBeLessThan(0.5);
      expect(t.glitches.glitches).toEqual([]);
    }
    expect((status.streams.rx[0].counters.dropped as Record<string, number>).late).toBe(0);
  }, 60_000);
});
