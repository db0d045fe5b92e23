// Writes decoded audio as a WAV file (wavefile) at the stream's own word size.
import { writeFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import type { DecodedAudio } from './decode-stream.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');

export function writeWav(path: string, audio: DecodedAudio): void {
  const bits = { L16: 16, L24: 24, L32: 32 }[audio.encoding];
  const scale = 2 ** (bits - 1);
  const ints = new Int32Array(audio.interleaved.length);
  for (let i = 0; i < ints.length; i++) ints[i] = Math.max(-scale, Math.min(scale - 1, Math.round(audio.interleaved[i] * scale)));
  const wav = new WaveFile();
  wav.fromScratch(audio.channels, audio.sampleRate, String(bits), ints);
  writeFileSync(path, wav.toBuffer());
}
