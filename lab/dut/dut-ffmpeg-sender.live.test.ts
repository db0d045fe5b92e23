// Crossing: ffmpeg -> DUT with ffmpeg's OWN SDP. ffmpeg in namespace A generates a tone
// (`-f lavfi sine`), sends it as RTP (pcm_s24be -> L24, pcm_s16be -> L16) to a multicast
// group and writes its SDP (`-sdp_file`); the software DUT in B is configured with exactly
// that file, unedited, loops it back, and GStreamer in C records what the DUT sends; the
// lab's glitch detector and sine fit judge the recording. tshark in C watches ffmpeg's
// packets, so the test also measures how ffmpeg packetises.
//
// How ffmpeg 5.1's RTP output differs from AES67 (what the DUT must cope with, measured
// here, not assumed):
// - its SDP has no a=ptime (AES67 §8.1 requires one), no ts-refclk/mediaclk (RFC 7273: no
//   PTP at all; the DUT takes the stream as sender-clocked), `s=No Name`, `o=- 0 0 IN IP4
//   127.0.0.1` whatever the host, and `c=IN IP4 <group>` with no TTL unless the URL has
//   ?ttl= (RFC 8866 §5.7 wants one for IPv4 multicast);
// - L24 and L16 at 48 kHz get dynamic PT 97; L16 at 44.1 kHz gets the static PT 10 (stereo)
//   and then no a=rtpmap line at all (RFC 3551 table 4);
// - packets are as big as max_packet_size allows (1472-byte UDP payload by default: 243
//   frames of L24 stereo, 5.06 ms), and each encoded frame (lavfi's 1024 samples) is cut
//   into such packets with the remainder in a short one: packet sizes vary inside the stream
//   and none matches a 1 ms packet time (8 channels of L24: 60-frame packets and a 4-frame
//   one per block);
// - with -re it paces by encoded frame, so packets leave in bursts every 21 ms;
// - it sends RTCP sender reports to port 5005 of the same group.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { fitSine } from '../analyze/sine-fit.ts';
import { lintSdp } from '../net/sdp-lint.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { checkTone, missingForDut, readWav, chrtWorks, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['ffmpeg', 'gst-launch-1.0', 'tshark']) : usable.reason;
const SUBNET = 150;
const IN_GROUP = `239.69.${SUBNET}.1`;
const OUT_GROUP = `239.69.${SUBNET}.2`;
const TONE_HZ = 997;
const RECORD_MS = 5_000;
const rt = (cmd: string, args: string[]): [string, string[]] => (chrtWorks ? ['chrt', ['-f', '20', cmd, ...args]] : [cmd, args]);

interface Case {
  codec: 'pcm_s24be' | 'pcm_s16be';
  encoding: 'L24' | 'L16';
  rate: number;
  channels: number;
  /** Frames per packet of the DUT's own TX (any: only the RX side is ffmpeg's). */
  txFrames: number;
}

const CASES: Case[] = [
  { codec: 'pcm_s24be', encoding: 'L24', rate: 48_000, channels: 2, txFrames: 48 },
  { codec: 'pcm_s16be', encoding: 'L16', rate: 44_100, channels: 2, txFrames: 44 },
  // 8 channels: 60-frame packets (1440 bytes) and a 4-frame remainder per 1024-frame block.
  { codec: 'pcm_s24be', encoding: 'L24', rate: 48_000, channels: 8, txFrames: 48 },
];

async function stop(child: ReturnType<Netns['spawn']>, signal: NodeJS.Signals) {
  const out = collect(child);
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await out.exited;
  clearTimeout(timer);
}

describe.skipIf(missing !== undefined)(`ffmpeg -> aes67-dut with ffmpeg's own SDP (${missing ?? 'root, ffmpeg, gst-launch-1.0, tshark'})`, () => {
  let net: Netns | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xf-'));
  const running: DutProcess[] = [];

  beforeAll(() => {
    net = createNetns({ prefix: 'a67xf', hosts: ['a', 'b', 'c'], subnet: SUBNET });
  });
  afterAll(async () => {
    for (const d of running) await d.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('$encoding $rate Hz $channels ch: the DUT plays ffmpeg\'s stream from ffmpeg\'s SDP, the tone comes back with no glitch', async (c) => {
    const name = `${c.encoding}-${c.rate}-${c.channels}`;
    const chans = Array.from({ length: c.channels }, (_, i) => i + 1);
    // The same tone on every channel: -ac 2 for stereo, pan for more (ffmpeg's own upmix would put mono in the centre only).
    const source = `sine=frequency=${TONE_HZ}:sample_rate=${c.rate}` + (c.channels === 2 ? '' : `,pan=${c.channels}c|${chans.map((ch) => `c${ch - 1}=c0`).join('|')}`);
    const upmix = c.channels === 2 ? ['-ac', '2'] : [];
    const frameBytes = (c.encoding === 'L24' ? 3 : 2) * c.channels;
    // What ffmpeg's sine source sounds like, rendered by ffmpeg itself: the expected level.
    const reference = path.join(dir, `${name}-reference.wav`);
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', source, '-t', '1', ...upmix, '-c:a', 'pcm_s24le', '-y', reference], { timeout: 30_000 });
    const ref = readWav(reference);
    const refFit = fitSine(ref.channels[0], ref.sampleRate);

    // tshark in C: ffmpeg's packets as they arrive (sizes and times), before ffmpeg starts.
    const watch = net!.spawn('c', 'tshark', ['-i', 'eth0', '-l', '-f', `udp and dst host ${IN_GROUP}`, '-a', 'duration:8', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'udp.length', '-e', 'udp.dstport']);
    const watched = collect(watch);
    await sleep(1_500);

    const sdpFile = path.join(dir, `${name}.sdp`);
    const ffmpeg = net!.spawn('a', ...rt('ffmpeg', ['-nostdin', '-loglevel', 'warning', '-re', '-f', 'lavfi', '-i', source,
      '-t', '20', ...upmix, '-c:a', c.codec, '-f', 'rtp', '-sdp_file', sdpFile, `rtp://${IN_GROUP}:5004`]));
    const ffmpegOut = collect(ffmpeg);
    const t0 = Date.now();
    while (!existsSync(sdpFile) && Date.now() - t0 < 15_000) await sleep(100);
    expect(existsSync(sdpFile), `ffmpeg wrote its SDP:\n${ffmpegOut.stderr}`).toBe(true);
    await sleep(200); // written whole
    const sdp = readFileSync(sdpFile, 'utf8');
    const findings = lintSdp(sdp);
    console.log(`ffmpeg's SDP for ${c.codec} at ${c.rate} Hz, ${c.channels} ch:\n${sdp}lab lint: ${findings.map((f) => `${f.severity}: ${f.message}`).join(' | ')}`);

    const config = {
      interface: 'eth0',
      device: { inputChannels: c.channels, outputChannels: c.channels, sampleRate: c.rate, ioBufferFrames: 64, linkOffsetFrames: c.rate / 10 },
      rx: [{ id: 'ffmpeg', sdpFile, channels: chans }],
      tx: [{ id: 'back', name: `DUT ${name}`, destination: `${OUT_GROUP}:5004`, encoding: c.encoding, framesPerPacket: c.txFrames, channelMap: chans }],
      control: { listen: `unix:${path.join(dir, `${name}.sock`)}` },
      stateDir: dir,
    };
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const dut = await attachDut(net!.spawn('b', DUT_BINARY, ['--config', file]));
    running.push(dut);
    // The DUT read ffmpeg's file as it was: nothing rewrote it.
    expect(readFileSync(sdpFile, 'utf8')).toBe(sdp);
    expect(await dut.client.sdp('ffmpeg')).toContain(`c=IN IP4 ${IN_GROUP}`);

    await sleep(1_000); // the DUT anchors and primes its 100 ms
    const wav = path.join(dir, `${name}.wav`);
    const recorder = net!.spawn('c', ...rt('gst-launch-1.0', ['-e', 'udpsrc', `address=${OUT_GROUP}`, 'port=5004', 'multicast-iface=eth0', 'buffer-size=4194304',
      `caps=application/x-rtp,media=audio,clock-rate=${c.rate},encoding-name=${c.encoding},channels=${c.channels},payload=96`,
      '!', c.encoding === 'L24' ? 'rtpL24depay' : 'rtpL16depay', '!', 'audioconvert', '!', 'audio/x-raw,format=S24LE', '!', 'wavenc', '!', 'filesink', `location=${wav}`]));
    const recorderOut = collect(recorder);
    await sleep(RECORD_MS);
    const status = await dut.client.status();
    await stop(recorder, 'SIGINT');
    await stop(ffmpeg, 'SIGTERM');
    expect(await dut.stop()).toBe(0);
    await stop(watch, 'SIGINT');

    // ffmpeg's packetisation, as tshark saw it.
    const all = watched.stdout.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t').map(Number));
    // ffmpeg also sends RTCP sender reports to port + 1 of the same group.
    const packets = all.filter(([, , port]) => port === 5004);
    const rtcp = all.filter(([, , port]) => port === 5005).length;
    const sizes = new Map<number, number>();
    for (const [, udpLength] of packets) {
      const frames = (udpLength - 8 - 12) / frameBytes;
      sizes.set(frames, (sizes.get(frames) ?? 0) + 1);
    }
    const gaps = packets.slice(1).map(([t], i) => (t - packets[i][0]) * 1e3).sort((a, b) => a - b);
    const rx = status.streams.rx[0];
    const dropped = rx.counters.dropped as Record<string, number>;
    const w = readWav(wav);
    const tones = checkTone(w, TONE_HZ);
    console.log(
      `${name}: ffmpeg sent ${packets.length} RTP packets (and ${rtcp} RTCP to port 5005) in tshark's window, frames per packet ${JSON.stringify(Object.fromEntries(sizes))}, ` +
        `inter-packet gap median ${gaps[gaps.length >> 1]?.toFixed(3)} ms, max ${gaps[gaps.length - 1]?.toFixed(1)} ms; ` +
        `DUT rx format ${JSON.stringify(rx.format)}, senderClocked ${rx.senderClocked}, received ${rx.counters.received}, accepted ${rx.counters.accepted}, dropped ${JSON.stringify(dropped)}, ` +
        `playout ${JSON.stringify(rx.playout)}; recorded ${w.channels.length} ch ${w.sampleRate} Hz, ${tones[0].seconds.toFixed(2)} s of tone at ` +
        `${tones.map((t) => t.fit.frequencyHz.toFixed(3)).join('/')} Hz, amplitude ${tones[0].fit.amplitude.toFixed(4)} (ffmpeg's own render ${refFit.amplitude.toFixed(4)}), ` +
        `glitches ${tones.map((t) => t.glitches.glitches.length).join('/')}; ` +
        // Where a glitch heard in the recording came from: the DUT's IO and TX (a gap in its output ring, a late cycle) or the recorder.
        `DUT device ${JSON.stringify(status.device.counters)}, tx ${JSON.stringify(status.streams.tx[0]?.counters)}`,
    );

    // ffmpeg's quirks, as found (if ffmpeg changes, this says how).
    expect(sdp).not.toMatch(/a=ptime/);
    expect(sdp).not.toMatch(/a=ts-refclk/);
    expect(sizes.size, 'ffmpeg sends packets of more than one size').toBeGreaterThan(1);
    if (c.rate === 44_100) {
      expect(sdp).toMatch(/m=audio 5004 RTP\/AVP 10\r?\n/);
      expect(sdp).not.toMatch(/a=rtpmap/);
    }

    // The DUT took it: the format ffmpeg meant, every packet placed, nothing dropped.
    expect(rx.active, JSON.stringify(rx)).toBe(true);
    expect(rx.senderClocked).toBe(true);
    expect(rx.format).toMatchObject({ encoding: c.encoding, channels: c.channels, sampleRate: c.rate });
    expect(Object.values(dropped).reduce((a, b) => a + b, 0), JSON.stringify(dropped)).toBe(0);
    expect(rx.playout.glitches).toBe(0);
    expect(rx.anchoring?.anchors).toBe(1);

    // What came back: ffmpeg's tone at ffmpeg's level, continuous.
    expect(recorderOut.stderr).not.toMatch(/ERROR/);
    expect(w.sampleRate).toBe(c.rate);
    expect(w.channels.length).toBe(c.channels);
    for (const t of tones) {
      expect(t.seconds, `channel ${t.channel}: tone long enough`).toBeGreaterThan(3);
      expect(Math.abs(t.fit.frequencyHz - TONE_HZ), `channel ${t.channel} frequency`).toBeLessThan(0.5);
      expect(Math.abs(t.fit.amplitude / refFit.amplitude - 1), `channel ${t.channel} level`).toBeLessThan(0.02);
      expect(t.glitches.glitches, `channel ${t.channel}: no glitch`).toEqual([]);
    }
  }, 90_000);
});
