// `aes67-lab decode FILE --stream N -o out.wav`
import type { Command } from 'commander';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { decodeStream } from '../analyze/decode-stream.ts';
import { writeWav } from '../analyze/wav.ts';
import { CaptureFormatError } from '../net/pcap/reader.ts';

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description("write one RTP stream's audio from a capture to a WAV file")
    .argument('<file>', 'pcap or pcapng capture')
    .requiredOption('--stream <n>', 'stream number as `analyze` lists it (1-based)')
    .requiredOption('-o, --output <wav>', 'WAV file to write')
    .action((file: string, opts: { stream: string; output: string }) => {
      try {
        const doc = analyzeCapture(file);
        const n = Number(opts.stream);
        const stream = doc.streams.find((s) => s.index === n);
        if (!stream) program.error(`error: --stream ${opts.stream}: the capture has ${doc.streams.length} RTP stream(s), numbered from 1 (see \`aes67-lab analyze ${file}\`)`);
        const audio = decodeStream(file, stream);
        writeWav(opts.output, audio);
        console.log(`${opts.output}: ${audio.encoding} ${audio.channels} ch ${audio.sampleRate} Hz, ${audio.interleaved.length / audio.channels} frames, ${audio.missingFrames} missing`);
      } catch (e) {
        if (e instanceof CaptureFormatError || (e as NodeJS.ErrnoException).code === 'ENOENT') program.error(`error: ${(e as Error).message}`);
        throw e;
      }
    });
}
