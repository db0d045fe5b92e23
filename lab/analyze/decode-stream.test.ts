import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { analyzeCapture } from './analyze-capture.ts';
import { decodeStream } from './decode-stream.ts';
import { fitSine } from './sine-fit.ts';
import { writeWav } from './wav.ts';
import { sharedCaptures } from '../net/pcap/shared-captures.ts';
import { tsharkRtpStreams } from './tshark-rtp-streams.ts';
import { withTempDir } from '../net/test-support.ts';
import { bytesPerSample, type PcmEncoding } from '../net/pcm.ts';

const find = (name: string) => sharedCaptures().find((c) => c.endsWith(name));

describe('decode', () => {
  for (const name of ['l16_48000_2ch_1ms.pcap', 'ST2022-7-Audio.pcap']) {
    it.skipIf(!find(name))(`${name}: the decoded sine is continuous, and ffmpeg reads the WAV back sample for sample`, () => {
      const file = find(name)!;
      const stream = analyzeCapture(file).streams[0];
      const audio = decodeStream(file, stream);
      expect(audio.missingFrames).toBe(0);
      const lsb = 2 ** -(8 * bytesPerSample(audio.encoding as PcmEncoding) - 1);
      for (let ch = 0; ch < audio.channels; ch++) {
        const fit = fitSine(audio.interleaved, audio.sampleRate, audio.channels, ch);
        expect(fit.amplitude).toBeGreaterThan(100 * lsb);
        // A sine sampled and rounded: the three-term residual stays within a few LSB.
        expect(fit.maxResidual).toBeLessThan(4 * lsb);
      }
      withTempDir((dir) => {
        const wav = path.join(dir, 'out.wav');
        writeWav(wav, audio);
        const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', wav, '-f', 'f32le', '-c:a', 'pcm_f32le', 'pipe:1'], { maxBuffer: 256 * 1024 * 1024 });
        const theirs = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
        expect(theirs.length).toBe(audio.interleaved.length);
        let worst = 0;
        for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(theirs[i] - audio.interleaved[i]));
        expect(worst).toBeLessThanOrEqual(lsb);
        expect(readFileSync(wav).subarray(0, 4).toString()).toBe('RIFF');
      });
    });
  }

  it.skipIf(!find('ST2022-7-Audio_dropped_in_both.pcap'))('leaves silence where packets were lost: frames missing = tshark loss × frames per packet', () => {
    const file = find('ST2022-7-Audio_dropped_in_both.pcap')!;
    const theirs = tsharkRtpStreams(file);
    for (const stream of analyzeCapture(file).streams) {
      const audio = decodeStream(file, stream);
      const t = theirs.find((x) => x.destination === stream.destination)!;
      expect(audio.missingFrames).toBe(t.lost * stream.framesPerPacket!);
    }
  });
});
