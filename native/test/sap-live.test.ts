// Live crossing with a real SAP announcer: VLC (cvlc, as user nobody, in namespace A)
// announces an RTP stream; the engine's SapListener on real UDP (a tsx process in
// namespace B) finds the session, and the engine parses it to the format VLC was told to
// send. Namespaces a67s*, subnet 10.67.100.0/24, created and deleted by the test.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canUseNetns, createNetns } from '../../ci/netns.ts';
import { loadNative, projectRoot } from '../index.ts';
import { describeAes67 } from '../../lab/net/sdp.ts';

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const netns = canUseNetns();
const missing = [!netns.ok && netns.reason, !have('cvlc') && 'cvlc (apt-get install vlc-bin vlc-plugin-base)', !have('ffmpeg') && 'ffmpeg', !have('runuser') && 'runuser']
  .filter(Boolean).join('; ');

describe.skipIf(missing !== '')(`SAP from VLC into the engine's SapListener over real UDP${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('finds the session cvlc announces on 239.255.255.255:9875 and parses it to the format VLC sends', () => {
    const native = loadNative();
    const dir = mkdtempSync(path.join(tmpdir(), 'a67s-'));
    const net = createNetns({ prefix: 'a67s', hosts: ['a', 'b'], subnet: 100 });
    try {
      chmodSync(dir, 0o755);
      const wav = path.join(dir, 'tone.wav');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=997:sample_rate=48000:duration=30', '-ac', '2', wav]);
      chmodSync(wav, 0o644);
      // Issue 8's VLC command; VLC refuses SAP for 239.69.x.x, so the stream goes to 239.255.100.1.
      net.spawn('a', 'runuser', ['-u', 'nobody', '--', 'cvlc', '-q', wav, '--sout',
        '#transcode{acodec=s16b,channels=2,samplerate=48000}:rtp{dst=239.255.100.1,port=5004,sap,name=LabTone}', '--sout-keep']);
      const out = net.exec('b', path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
        [path.join(projectRoot, 'native', 'test', 'sap-listener-process.ts'), net.host('b').ifname, '20'], 40_000);
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result.timeout, `no SAP announcement reached namespace B: ${out}`).toBeUndefined();
      const session = result.session;
      expect(session.origin).toBe(net.host('a').address);
      expect(Object.values(result.stats.dropped).every((n) => n === 0)).toBe(true);
      // VLC writes its host name in o= (issue 3), a=recvonly, no ptime: the engine assumes AES67's 1 ms
      // (packets of any size still play by timestamp); its format is what VLC was told to send.
      const parsed = native.parseSdp(session.sdp);
      if (parsed.error !== undefined) throw new Error(parsed.message);
      expect(parsed.name).toBe('LabTone');
      expect(parsed.connection?.address).toBe('239.255.100.1');
      expect(/^\d{1,3}(\.\d{1,3}){3}$/.test(parsed.origin.address)).toBe(false);
      const described = native.describeSdp(session.sdp);
      expect(described).toMatchObject({ framesPerPacket: 48, ptimeUs: 1000 });
      expect(described).toEqual({ ...describeAes67(session.sdp) });
      const withPtime = session.sdp.replace(/(a=rtpmap:[^\r\n]*\r\n)/, '$1a=ptime:1\r\n');
      const d = native.describeSdp(withPtime);
      if (d.error !== undefined) throw new Error(d.message);
      expect([d.destination, d.port, d.encoding, d.sampleRate, d.channels]).toEqual(['239.255.100.1', 5004, 'L16', 48000, 2]);
      expect(d).toEqual({ ...describeAes67(withPtime) });
      const lint = native.lintSdp(session.sdp);
      expect(lint.filter((f) => f.severity === 'error').map((f) => f.code).sort()).toEqual(['missing-mediaclk', 'missing-ptime', 'missing-ts-refclk']);
    } finally {
      net.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
