import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { withTempDir } from '../net/test-support.ts';
import { fitChannels, readWav, runTool } from '../peers/test-support.ts';

const BIN = path.join(projectRoot, 'lab/cli/bin.ts');
const isRoot = process.getuid?.() === 0;

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', BIN, 'emulate', ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 30_000 });
}

describe.skipIf(!addonBuilt())('aes67-lab emulate: bad flags', () => {
  const cases: [string, string[], RegExp][] = [
    ['sender', ['--destination', '239.1.1.1', '--channels', '65'], /--channels 65: a whole number from 1 to 64/],
    ['sender', ['--destination', '239.1.1.1', '--encoding', 'L20'], /--encoding L20: use L16, L24, L32/],
    ['sender', ['--destination', '239.1.1.1', '--rate', '22050'], /--rate 22050: a whole number from 44100 to 384000/],
    ['sender', ['--destination', '239.1.1.1', '--rate', '50000'], /50000 Hz: use one of 44100, 48000/],
    ['sender', ['--destination', '239.1.1.1', '--frames', '5'], /--frames 5: ptime 104.2 µs .* outside AES67's 125 µs to 4 ms/],
    ['sender', ['--destination', '239.1.1.1', '--signal', 'chirp'], /--signal chirp: use sine, silence, noise, probe or wav/],
    ['sender', ['--destination', '239.1.1.1', '--signal', 'wav'], /--signal wav needs --wav <file>/],
    ['sender', ['--destination', '239.1.1.1', '--signal', 'wav', '--wav', '/nonexistent.wav'], /--wav \/nonexistent.wav: no such file/],
    ['sender', ['--destination', '1.2.3'], /--destination 1.2.3: write an IPv4 address/],
    ['sender', [], /required option '--destination <ip>' not specified/],
    ['dante', ['--device-name', 'X', '--channels', '9'], /--channels 9: a Dante AES67 flow carries at most 8 channels/],
    ['dante', ['--device-name', 'X', '--prefix', '10.0.0.0/8'], /--prefix .*239.x.y.z/],
    ['dante', ['--device-name', 'X', '--channels', '2', '--labels', 'A,B,C'], /--labels has 3 names for --channels 2/],
    ['dante', ['--device-name', 'X', '--gmid', 'xyz'], /grandmaster identity "xyz"/],
    ['ravenna', ['--session-name', 'S', '--destination', '239.1.1.1', '--encoding', 'L32'], /--encoding L32: use L16, L24/],
    ['ravenna', ['--session-name', 'S', '--destination', '10.1.1.1'], /--destination 10.1.1.1: must be a multicast group/],
    ['ravenna', ['--session-name', 'S', '--destination', '239.1.1.1', '--change-channels', '4'], /need --change-at/],
    ['ravenna', ['--session-name', 'a.b', '--destination', '239.1.1.1'], /--session-name DNS-SD instance name "a.b" contains a dot/],
  ];
  for (const [verb, args, message] of cases) {
    it(`${verb} ${args.join(' ')}: exits 1 naming the flag`, () => {
      const r = cli([verb, '--interface', 'lo', ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  }

  it('names an interface that does not exist', () => {
    const r = cli(['sender', '--interface', 'nosuch0', '--destination', '239.1.1.1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/interface 'nosuch0' has no IPv4 address/);
  });
});

describe.skipIf(!addonBuilt() || !isRoot)('aes67-lab emulate sender on loopback', () => {
  // Loopback ports of this helper's range: 45410-45411 (ffmpeg binds RTCP on +1).
  it('writes its SDP, sends until --seconds, and ffmpeg records the tone from that SDP', async () => {
    await withTempDir(async (dir) => {
      const sdp = path.join(dir, 'cli.sdp');
      const wav = path.join(dir, 'cli.wav');
      const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'emulate', 'sender', '--interface', 'lo', '--destination', '127.0.0.1', '--port', '45410', '--channels', '3', '--encoding', 'L16', '--ptime-us', '250', '--channel-step', '100', '--sdp-out', sdp, '--seconds', '4', '--json'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      for (let i = 0; i < 100 && !existsSync(sdp); i++) await new Promise((r) => setTimeout(r, 100));
      const ffmpeg = runTool('ffmpeg', ['-v', 'error', '-protocol_whitelist', 'file,udp,rtp', '-i', sdp, '-t', '1.5', '-c:a', 'pcm_s16le', '-y', wav], 25_000);
      const [code, recorded] = await Promise.all([exited, ffmpeg.exited]);
      clearTimeout(guard);
      expect(code).toBe(0);
      expect(recorded.code).toBe(0);
      const result = JSON.parse(stdout.trim());
      expect(result.stats.packets).toBeGreaterThan(3.5 * 4000);
      const w = readWav(wav);
      expect([w.channels, w.sampleRate]).toEqual([3, 48000]);
      fitChannels(w).forEach((f, c) => {
        expect(f.frequencyHz).toBeCloseTo(997 + 100 * c, 1);
        expect(f.maxResidual).toBeLessThan(8 * 2 ** -15);
      });
    });
  });
});
