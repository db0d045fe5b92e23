// The engine's SDP codec (through native) on what real software writes: ffmpeg's SDP (run
// here), the Dante and RAVENNA shapes from FIELD-NOTES, and the TX SDP the engine itself
// writes, read back by Wireshark's tshark and by the lab's independent TypeScript codec.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import { describeAes67, ptimeToFrames, SdpError } from '../../lab/net/sdp.ts';
import { SAP_GROUP_DANTE, SAP_PORT } from '../../lab/net/sap.ts';
import { tsharkFields, tsharkProblems } from '../../lab/net/tshark.ts';
import { withTempDir, writeUdpCapture } from '../../lab/net/test-support.ts';

const native = loadNative();

// FIELD-NOTES "Dante SDP shape": session-level c= /32, keywds, channel labels with commas
// in i=, PT 97, ptime 1, ts-refclk with the GM EUI-64, non-zero mediaclk:direct=.
const DANTE = ['v=0', 'o=- 1423986 1423994 IN IP4 10.67.20.11', 's=AVIOUSB-1e1a2b : 2', 'c=IN IP4 239.69.83.67/32', 't=0 0',
  'a=keywds:Dante', 'm=audio 5004 RTP/AVP 97', 'i=2 channels: Left, Right', 'a=recvonly', 'a=rtpmap:97 L24/48000/2', 'a=ptime:1',
  'a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0', 'a=mediaclk:direct=3271884240', ''].join('\r\n');
// FIELD-NOTES "RAVENNA SDP adds ...".
const RAVENNA = ['v=0', 'o=- 17 3 IN IP4 10.67.20.12', 's=Stage Box 125', 't=0 0', 'a=clock-domain:PTPv2 0', 'm=audio 5004 RTP/AVP 98',
  'c=IN IP4 239.1.20.12/15', 'a=rtpmap:98 L16/48000/8', 'a=source-filter: incl IN IP4 239.1.20.12 10.67.20.12',
  'a=clock-domain:PTPv2 0', 'a=sync-time:0', 'a=framecount:6', 'a=ptime:0.12', 'a=maxptime:0.25',
  'a=ts-refclk:ptp=IEEE1588-2008:00-1d-c1-ff-fe-00-00-0a:0', 'a=mediaclk:direct=0', 'a=sendonly', ''].join('\r\n');

function tsError(text: string): { error: string; line: number } | undefined {
  try {
    describeAes67(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof SdpError)) throw e;
    return { error: e.reason, line: e.line };
  }
}

describe('engine SDP through native', () => {
  it("parses what ffmpeg writes and lints it as not AES67, naming the missing attributes", () => {
    withTempDir((dir) => {
      const sdpFile = path.join(dir, 'ff.sdp');
      // Unicast to our own loopback port range (41000-41999): nothing leaves the host.
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=997:sample_rate=48000:duration=0.1',
        '-ac', '2', '-c:a', 'pcm_s24be', '-f', 'rtp', 'rtp://127.0.0.1:41010', '-sdp_file', sdpFile], { timeout: 30_000 });
      const text = readFileSync(sdpFile, 'utf8');
      const session = native.parseSdp(text);
      if (session.error !== undefined) throw new Error(session.message);
      expect(session.media[0].formats.length).toBe(1);
      expect(native.writeSdp(text)).toBe(text);  // ffmpeg writes canonical CRLF SDP: byte-identical round trip
      const findings = native.lintSdp(text);
      const errors = findings.filter((f) => f.severity === 'error');
      expect(errors.map((f) => f.code).sort()).toEqual(['missing-mediaclk', 'missing-ptime', 'missing-ts-refclk']);
      for (const f of errors) expect(f.clause).toMatch(/AES67-2018 §8\.[123]/);
      expect(errors.map((f) => f.message).join(' ')).toMatch(/a=ptime.*a=ts-refclk.*a=mediaclk|a=ptime[\s\S]*ts-refclk[\s\S]*mediaclk/);
      // Both codecs take it as a stream with AES67's 1 ms assumed (ffmpeg's packets are longer;
      // the receiver plays them by timestamp).
      const d = native.describeSdp(text);
      expect(d).toMatchObject({ framesPerPacket: 48, ptimeUs: 1000 });
      expect(d).toEqual({ ...describeAes67(text) });
      // With a ptime the format is what ffmpeg was told to send, and both codecs agree.
      const withPtime = text.replace(/(a=rtpmap:[^\r\n]*\r\n)/, '$1a=ptime:1\r\n');
      const ok = native.describeSdp(withPtime);
      if (ok.error !== undefined) throw new Error(ok.message);
      expect([ok.encoding, ok.sampleRate, ok.channels, ok.port]).toEqual(['L24', 48000, 2, 41010]);
      expect(ok).toEqual({ ...describeAes67(withPtime) });
    });
  });

  it('reads the Dante and RAVENNA shapes as the lab does and lints them AES67', () => {
    for (const text of [DANTE, RAVENNA]) {
      const d = native.describeSdp(text);
      if (d.error !== undefined) throw new Error(d.message);
      expect(d).toEqual({ ...describeAes67(text) });
      expect(native.lintSdp(text).filter((f) => f.severity === 'error')).toEqual([]);
      expect(native.writeSdp(text)).toBe(text);
    }
    expect(native.describeSdp(DANTE)).toMatchObject({ channelLabels: ['Left', 'Right'], keywords: 'Dante', mediaclkOffset: 3271884240, payloadType: 97 });
    expect(native.describeSdp(RAVENNA)).toMatchObject({ framesPerPacket: 6, sourceFilter: '10.67.20.12', clockDomain: 0, maxptimeUs: 250 });
  });

  it('gives AES67 fractional packet times their sample counts (the reference driver dropped fractions)', () => {
    const ptimes = ['0.125', '0.12', '0.250', '0.333', '0.33'];
    const engine = ptimes.map((p) => native.ptimeFrames(p, 48000));
    // The lab's independent conversion is the reference.
    expect(engine).toEqual(ptimes.map((p) => ptimeToFrames(Number(p), 48000)));
    expect(engine).toEqual([6, 6, 12, 16, 16]);
  });

  it("writes TX SDP that tshark dissects cleanly and the lab's codec reads back", () => {
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    network.addHost('dut', '10.67.20.2');
    const manager = new native.StreamManager(network, '10.67.20.2');
    manager.addTx({ id: 'main', name: 'Lab Out', destination: '239.69.20.2:5004', format: { encoding: 'L24', channels: 8, sampleRate: 48000, payloadType: 97, mediaclkOffset: 77 }, framesPerPacket: 6, channelLabels: ['Kick', 'Snare'] });
    const sdp = manager.txSdp('main');
    expect(sdp).toContain('a=recvonly\r\n'); // what a Dante AVIO's own SDP says (aes67-linux-daemon#5)
    expect(native.lintSdp(sdp).filter((f) => f.severity === 'error')).toEqual([]);
    const lab = describeAes67(sdp);
    expect(lab).toMatchObject({ destination: '239.69.20.2', port: 5004, ttl: 32, encoding: 'L24', channels: 8, framesPerPacket: 6, ptimeUs: 125, mediaclkOffset: 77, sourceFilter: '10.67.20.2', direction: 'recvonly' });
    withTempDir((dir) => {
      const file = path.join(dir, 'tx-sdp.pcapng');
      const payload = native.buildSap({ messageType: 'announce', msgIdHash: 0x4242, origin: '10.67.20.2', sdp });
      writeUdpCapture(file, [{ sourceIp: '10.67.20.2', destinationIp: SAP_GROUP_DANTE, sourcePort: SAP_PORT, destinationPort: SAP_PORT, payload }]);
      expect(tsharkProblems(file)).toEqual([]);
      const [row] = tsharkFields(file, ['sdp.owner.address', 'sdp.session_name', 'sdp.connection_info.address', 'sdp.connection_info.ttl', 'sdp.media.port', 'sdp.mime.type', 'sdp.sample_rate']);
      expect(row).toEqual(['10.67.20.2', 'Lab Out', '239.69.20.2', '32', '5004', 'L24', '48000']);
    });
  });

  it('names the line and reason of every refusal, as the lab does', () => {
    const cases: [string, string][] = [
      ['a=rtpmap:97 L24/48000/2', 'a=rtpmap:97 opus/48000/2'],
      ['a=ptime:1', 'a=ptime:fast'],
      ['a=rtpmap:97 L24/48000/2\r\n', ''],
      ['c=IN IP4 239.69.83.67/32\r\n', ''],
      ['00-1D-C1-FF-FE-12-34-56:0', 'nonsense'],
      ['m=audio', 'm=video'],
      ['direct=3271884240', 'direct=x'],
      ['a=ptime:1', 'a=ptime:1\r\na=maxptime:y'],
    ];
    for (const [from, to] of cases) {
      const text = DANTE.replace(from, to);
      const ours = native.describeSdp(text);
      expect(ours.error, to).toBeDefined();
      expect(ours, to).toMatchObject(tsError(text)!);
      if ((ours as { line: number }).line > 0) expect((ours as { message: string }).message).toContain(`line ${(ours as { line: number }).line}`);
    }
    expect(native.describeSdp('')).toMatchObject({ error: 'empty', line: 0 });
    expect(native.parseSdp('v=0\r\nq=1\r\n')).toMatchObject({ error: 'unknown-type', line: 2 });
  });
});
