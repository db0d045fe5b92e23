// The lab's AES67 sender crossed with independent receivers on loopback, in real time:
// ffmpeg reads the sender's own SDP, GStreamer depayloads with rtpL16depay / rtpL24depay,
// and each records a WAV whose channels, rate and continuous tone are checked.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addonBuilt } from '../../native/index.ts';
import { runRealTime, udpTransport } from '../net/lab-transport.ts';
import { withTempDir } from '../net/test-support.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { Aes67Sender } from './aes67-sender.ts';
import { systemTimescale } from './system-timescale.ts';
import { fitChannels, readWav, runTool } from './test-support.ts';

const isRoot = process.getuid?.() === 0;
// Loopback ports of this helper's range: 45200-45299 for these tests (ffmpeg also binds port+1 for RTCP).
const FFMPEG_PORTS = [45200, 45210, 45220, 45230];
const GST_PORTS = [45250, 45260];

interface Format {
  channels: number;
  sampleRate: number;
  encoding: PcmEncoding;
  frames: number;
}

function sender(port: number, f: Format) {
  const t = udpTransport('lo');
  return new Aes67Sender({
    transport: t,
    timescale: systemTimescale(t),
    destination: '127.0.0.1',
    port,
    channels: f.channels,
    sampleRate: f.sampleRate,
    encoding: f.encoding,
    framesPerPacket: f.frames,
    // 997 Hz: no whole number of cycles per packet, so a lost or repeated packet breaks the phase.
    signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20, channelStepHz: 100 },
    mediaclkOffset: 0x12345678,
    sessionName: `lab sender ${port}`,
  });
}

/** Checks a recorded WAV: format, at least `minSeconds` of audio, and every channel a continuous sine at its own frequency. */
function expectTone(file: string, f: Format, minSeconds: number) {
  const w = readWav(file);
  expect(w.channels).toBe(f.channels);
  expect(w.sampleRate).toBe(f.sampleRate);
  expect(w.frames).toBeGreaterThanOrEqual(minSeconds * f.sampleRate);
  const fits = fitChannels(w);
  const lsb = 2 ** -(f.encoding === 'L16' ? 15 : 23);
  fits.forEach((fit, c) => {
    expect(fit.frequencyHz).toBeCloseTo(997 + 100 * c, 1);
    expect(fit.amplitude).toBeCloseTo(0.1, 2);
    // A lost, repeated or misplaced packet shows as a residual of the order of the amplitude;
    // a continuous tone leaves only quantisation (a few LSBs of the recorded word).
    expect(fit.maxResidual).toBeLessThan(8 * lsb);
  });
}

describe.skipIf(!addonBuilt() || !isRoot)('Aes67Sender crossed with ffmpeg and GStreamer (loopback, real time)', () => {
  const ffmpegFormats: Format[] = [
    { channels: 2, sampleRate: 48000, encoding: 'L24', frames: 48 },
    { channels: 8, sampleRate: 96000, encoding: 'L16', frames: 12 },
    { channels: 1, sampleRate: 44100, encoding: 'L24', frames: 44 },
    { channels: 16, sampleRate: 48000, encoding: 'L24', frames: 6 },
  ];
  ffmpegFormats.forEach((f, i) => {
    it(`ffmpeg reads the sender's SDP and records ${f.channels} ch ${f.encoding} ${f.sampleRate} Hz (${f.frames} frames/packet) as a continuous tone`, async () => {
      await withTempDir(async (dir) => {
        const s = sender(FFMPEG_PORTS[i], f);
        const sdpFile = path.join(dir, 'stream.sdp');
        writeFileSync(sdpFile, s.sdp());
        const out = path.join(dir, 'ffmpeg.wav');
        const codec = f.encoding === 'L16' ? 'pcm_s16le' : 'pcm_s24le';
        const ffmpeg = runTool('ffmpeg', ['-v', 'error', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-t', '1', '-c:a', codec, '-y', out], 20_000);
        await new Promise((r) => setTimeout(r, 800)); // ffmpeg opens its sockets
        // Sent until ffmpeg has its second and exits (bounded): on a loaded machine ffmpeg
        // reads the SDP and opens its socket late, and a fixed 2.5 s run left it 0.85 s.
        const ffmpegDone = new AbortController();
        void ffmpeg.exited.finally(() => ffmpegDone.abort());
        await runRealTime([s], s.o.transport, { durationNs: 15_000_000_000, signal: ffmpegDone.signal });
        s.close();
        const result = await ffmpeg.exited;
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expectTone(out, f, 0.99);
      });
    });
  });

  const gstFormats: Format[] = [
    { channels: 2, sampleRate: 48000, encoding: 'L24', frames: 48 },
    { channels: 4, sampleRate: 44100, encoding: 'L16', frames: 6 },
  ];
  gstFormats.forEach((f, i) => {
    // audioconvert only swaps byte order: the depayloaders give big-endian, wavenc takes little-endian.
    // A 4 MiB socket buffer keeps 136 us packets whole while a loaded host delays GStreamer's reader.
    it(`GStreamer (udpsrc caps ! rtp${f.encoding}depay ! audioconvert ! wavenc) records ${f.channels} ch ${f.encoding} ${f.sampleRate} Hz as a continuous tone`, async () => {
      await withTempDir(async (dir) => {
        const port = GST_PORTS[i];
        const s = sender(port, f);
        const out = path.join(dir, 'gst.wav');
        const caps = `application/x-rtp,media=audio,clock-rate=${f.sampleRate},encoding-name=${f.encoding},channels=${f.channels},payload=96`;
        const gst = runTool('gst-launch-1.0', ['-q', '-e', 'udpsrc', `address=127.0.0.1`, `port=${port}`, 'buffer-size=4194304', `caps=${caps}`, '!', `rtp${f.encoding}depay`, '!', 'audioconvert', '!', 'wavenc', '!', 'filesink', `location=${out}`], 20_000);
        await new Promise((r) => setTimeout(r, 800));
        await runRealTime([s], s.o.transport, { durationNs: 2_000_000_000 });
        s.close();
        await new Promise((r) => setTimeout(r, 200));
        gst.stop('SIGINT'); // -e: EOS on interrupt, so wavenc writes its header
        const result = await gst.exited;
        expect(result.code).toBe(0);
        expectTone(out, f, 1.5);
      });
    });
  });
});
