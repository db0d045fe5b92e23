import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../native/index.ts';
import { withTempDir } from '../net/test-support.ts';
import { tsharkFields, tsharkProblems } from '../net/tshark.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { decodeStream } from '../analyze/decode-stream.ts';
import { fitSine } from '../analyze/sine-fit.ts';
import { dumpcapAvailable } from '../net/pcap/dumpcap.ts';

const isRoot = process.getuid?.() === 0;

/** Runs the CLI capture; resolves once it says it is capturing, and again when it exits; stop() ends it early with SIGINT. */
function startCapture(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), 'capture', ...args], { cwd: projectRoot });
  let stderr = '';
  let stdout = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('capturing on')) resolve();
    });
    child.on('exit', () => reject(new Error(`capture exited before starting: ${stderr}`)));
  });
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000); // bounded whatever happens
  exited.finally(() => clearTimeout(guard));
  return { started, exited, stop: () => child.kill('SIGINT') };
}

describe.skipIf(!isRoot)('aes67-lab capture (loopback)', () => {
  // Both ways the CLI captures: dumpcap (the default when installed) and libpcap in its own
  // process (cap), whose ring must hold what arrives while a loaded machine stalls it.
  it.each(['dumpcap', 'cap'])('captures an ffmpeg RTP L24 sine on lo by %s into pcapng that tshark reads cleanly and analyze/decode find continuous', async (by) => {
    if (by === 'dumpcap' && !dumpcapAvailable()) throw new Error('dumpcap is not installed: ci/setup installs it with tshark (wireshark-common)');
    const port = 40000 + (process.pid % 20000) + (by === 'cap' ? 1 : 0);
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'live.pcapng');
      // A long window ended by SIGINT once the sender is done: a slow, loaded machine cannot
      // push packets outside it.
      const cap = startCapture(['--interface', 'lo', '--filter', `udp dst port ${port}`, '--seconds', '25', '--by', by, '-o', file]);
      await cap.started;
      // ffmpeg as the independent sender: 1 kHz, 48 kHz, 2 ch L24, 300-byte packets = 1 ms.
      execFileSync('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000', '-t', '1', '-ac', '2', '-c:a', 'pcm_s24be', '-f', 'rtp', '-pkt_size', '300', `rtp://127.0.0.1:${port}`], { timeout: 20_000 });
      await new Promise((r) => setTimeout(r, 300));
      cap.stop();
      const result = await cap.exited;
      expect(result.code).toBe(0);
      const decodeAs = ['-d', `udp.port==${port},rtp`];
      expect(tsharkProblems(file, decodeAs)).toEqual([]);
      const theirs = tsharkFields(file, ['rtp.seq'], decodeAs);
      expect(result.stdout).toContain(`${theirs.length} packets`);
      expect(result.stdout).toContain(`(by ${by}`);
      const doc = analyzeCapture(file);
      expect(doc.streams.length).toBe(1);
      const s = doc.streams[0];
      expect(s.packets).toBe(theirs.length);
      expect([s.encoding, s.channels, s.sampleRate, s.ptimeUs]).toEqual(['L24', 2, 48000, 1000]);
      const audio = decodeStream(file, s);
      expect(audio.missingFrames).toBe(0);
      const fit = fitSine(audio.interleaved, audio.sampleRate, 2, 0);
      // lavfi's sine source computes 16-bit samples: the residual is bounded by 16-bit LSBs.
      expect(fit.maxResidual).toBeLessThan(4 * 2 ** -15);
      expect(Math.round(fit.frequencyHz)).toBe(1000);
    });
  });

  it('refuses a bad filter with a clear error', async () => {
    await withTempDir(async (dir) => {
      const cap = startCapture(['--interface', 'lo', '--filter', 'udp prot 5004', '--seconds', '1', '-o', path.join(dir, 'x.pcapng')]);
      cap.started.catch(() => undefined);
      const r = await cap.exited;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/capture on "lo" with filter "udp prot 5004"/);
    });
  });
});
