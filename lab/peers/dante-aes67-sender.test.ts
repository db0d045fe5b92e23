import { describe, expect, it } from 'vitest';
import path from 'node:path';
import * as sdpTransform from 'sdp-transform';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { parseRtp } from '../net/rtp.ts';
import { buildSap, parseSap, SAP_GROUP_DANTE } from '../net/sap.ts';
import { describeAes67 } from '../net/sdp.ts';
import { withTempDir } from '../net/test-support.ts';
import { tsharkFields, tsharkProblems } from '../net/tshark.ts';
import { DanteAes67Sender, inMulticastPrefix } from './dante-aes67-sender.ts';
import { SapListener } from './sap-listener.ts';
import { VirtualCapture } from './virtual-capture.ts';

const GM1 = '00-1D-C1-FF-FE-50-36-33';
const GM2 = '00-1D-C1-FF-FE-51-D7-EB';

function world() {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 30_000);
  const dante = virtualHost(network, clock, '10.67.142.10');
  const lab = virtualHost(network, clock, '10.67.142.20');
  return { native, clock, network, dante, lab, timescale: linearTimescale() };
}

describe.skipIf(!addonBuilt())('DanteAes67Sender', () => {
  it('announces a Dante-shaped SDP by SAP to 239.255.255.255 that the lab\'s SAP listener finds and the lab SDP reader and sdp-transform parse', () => {
    const w = world();
    const sender = new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'AVIOUSB-503633', flowId: 2, channels: 2, channelLabels: ['Left', 'Right'], signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -18 }, grandmaster: GM1 });
    const listener = new SapListener({ transport: w.lab });
    runVirtual([sender, listener], w.network, w.clock, { untilNs: 100e6 });
    const found = listener.find('AVIOUSB-503633 : 2');
    expect(found).toBeDefined();
    expect(found!.from.split(':')[0]).toBe('10.67.142.10');
    const sdp = found!.sdp;
    expect(sdp).toBe(sender.sdp());
    // Dante's shape (FIELD-NOTES "Dante SDP shape"), line by line in Dante's order.
    const lines = sdp.trimEnd().split('\r\n');
    expect(lines.map((l) => l.split(/[=:]/)[0] + (l.startsWith('a=') ? `=${l.slice(2).split(':')[0]}` : ''))).toEqual(['v', 'o', 's', 'c', 't', 'a=keywds', 'm', 'i', 'a=recvonly', 'a=rtpmap', 'a=ptime', 'a=ts-refclk', 'a=mediaclk']);
    expect(lines[3]).toMatch(/^c=IN IP4 239\.69\.\d+\.\d+\/32$/);
    expect(sdp).not.toMatch(/framecount|clock-domain|source-filter/);
    const d = describeAes67(sdp);
    expect([d.encoding, d.sampleRate, d.channels, d.ptimeUs, d.framesPerPacket, d.payloadType, d.port, d.keywords]).toEqual(['L24', 48000, 2, 1000, 48, 97, 5004, 'Dante']);
    expect(d.channelLabels).toEqual(['Left', 'Right']);
    expect(d.ptpRefclk).toEqual({ gmid: GM1, domain: 0 });
    expect(d.mediaclkOffset).toBeGreaterThan(0);
    expect(d.origin.sessionId).toBe(d.origin.sessionVersion);
    expect(inMulticastPrefix(d.destination, '239.69.0.0/16')).toBe(true);
    // An independent SDP parser reads the same.
    const t = sdpTransform.parse(sdp);
    expect(t.media[0].rtp[0]).toMatchObject({ payload: 97, codec: 'L24', rate: 48000, encoding: 2 });
    expect(t.connection?.ip).toBe(`${d.destination}/32`);
    sender.close();
    listener.close();
  });

  it('sends 48 kHz L24 1 ms RTP with PT 97 to its group, timestamps offset by its mediaclk', () => {
    const w = world();
    const sender = new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'Stagebox', channels: 8, signal: { kind: 'silence' }, grandmaster: GM1 });
    const rx = w.lab.open({ port: 5004 });
    rx.join(sender.destination);
    const got: Buffer[] = [];
    runVirtual([sender, { poll: () => { for (let d = rx.receive(); d; d = rx.receive()) got.push(d.data); return Infinity; } }], w.network, w.clock, { untilNs: 20e6 });
    expect(got.length).toBeGreaterThanOrEqual(19);
    const p = parseRtp(got[0]);
    expect([p.payloadType, p.payload.length]).toEqual([97, 48 * 8 * 3]);
    expect(p.timestamp).toBe(sender.rtp.timestampOf(0n));
    expect(sender.rtp.mediaclkOffset).not.toBe(0);
    sender.close();
  });

  it('follows a grandmaster change at once: SAP deletion, then the new SDP (version + 1, new ts-refclk) under a new hash', () => {
    const w = world();
    const sender = new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'Console', channels: 4, signal: { kind: 'silence' }, grandmaster: GM1, sapIntervalNs: 30e9 });
    const listener = new SapListener({ transport: w.lab });
    const sap = w.lab.open({ port: 9875 });
    sap.join(SAP_GROUP_DANTE);
    const heard: ReturnType<typeof parseSap>[] = [];
    const tap = { poll: () => { for (let d = sap.receive(); d; d = sap.receive()) heard.push(parseSap(d.data)); return Infinity; } };
    runVirtual([sender, listener, tap], w.network, w.clock, { untilNs: 1e9 });
    const before = listener.find('Console : 1')!;
    sender.setGrandmaster(GM2.toLowerCase());
    runVirtual([sender, listener, tap], w.network, w.clock, { untilNs: 1.01e9 });
    const after = listener.find('Console : 1')!;
    expect(listener.sessions()).toHaveLength(1);
    expect(after.sessionVersion).toBe(before.sessionVersion + 1n);
    expect(describeAes67(after.sdp).ptpRefclk).toEqual({ gmid: GM2, domain: 0 });
    expect(after.msgIdHash).not.toBe(before.msgIdHash);
    expect(heard.map((h) => h.messageType)).toEqual(['announce', 'delete', 'announce']);
    expect(heard[1].msgIdHash).toBe(before.msgIdHash);
    sender.close();
  });

  it('refuses more than 8 channels per flow, naming the limit; honours a configured prefix', () => {
    const w = world();
    expect(() => new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'X', channels: 9, signal: { kind: 'silence' }, grandmaster: GM1 })).toThrow(/1 to 8 channels, not 9/);
    expect(() => new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'X', channels: 2, signal: { kind: 'silence' }, grandmaster: 'nope' })).toThrow(/grandmaster identity "nope"/);
    expect(() => new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'X', channels: 2, signal: { kind: 'silence' }, grandmaster: GM1, multicastPrefix: '10.0.0.0/8' })).toThrow(/239.x.y.z/);
    const s = new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'X', channels: 2, signal: { kind: 'silence' }, grandmaster: GM1, multicastPrefix: '239.100.0.0/16' });
    expect(s.destination).toMatch(/^239\.100\./);
    s.close();
  });

  it('puts SAP and RTP on the wire that tshark dissects with no malformed or expert-error entry', () => {
    const w = world();
    withTempDir((dir) => {
      const file = path.join(dir, 'dante.pcapng');
      const cap = new VirtualCapture(w.network, file);
      const sender = new DanteAes67Sender({ transport: w.dante, timescale: w.timescale, deviceName: 'AVIOUSB-503633', flowId: 2, channels: 2, channelLabels: ['Left', 'Right'], signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -18 }, grandmaster: GM1, sapIntervalNs: 50e6 });
      runVirtual([sender], w.network, w.clock, { untilNs: 120e6 });
      sender.setGrandmaster(GM2);
      runVirtual([sender], w.network, w.clock, { untilNs: 130e6 });
      sender.close();
      cap.close();
      const decode = ['-d', 'udp.port==5004,rtp'];
      expect(tsharkProblems(file, decode)).toEqual([]);
      const sap = tsharkFields(file, ['sap.flags.t', 'sdp.session_name', 'sdp.media_attr', 'ip.dst'], ['-Y', 'sap'], 'a');
      expect(sap.length).toBe(sender.sap.announcements + sender.sap.deletions);
      expect(sap.every((r) => r[1] === 'AVIOUSB-503633 : 2' && r[3] === SAP_GROUP_DANTE)).toBe(true);
      expect(sap.some((r) => r[2].includes(`ts-refclk:ptp=IEEE1588-2008:${GM2}:0`))).toBe(true);
      const rtp = tsharkFields(file, ['rtp.p_type', 'rtp.timestamp', 'ip.dsfield.dscp'], [...decode, '-Y', 'rtp']);
      expect(rtp.length).toBe(sender.rtp.stats.packets);
      expect(new Set(rtp.map((r) => `${r[0]}/${r[2]}`))).toEqual(new Set(['97/34']));
      expect(Number(rtp[0][1])).toBe(sender.rtp.timestampOf(0n));
    });
  });
});

describe.skipIf(!addonBuilt())('SapListener', () => {
  it('drops a session on deletion and on time-out, keeps the newest version, counts bad packets by reason', () => {
    const w = world();
    const listener = new SapListener({ transport: w.lab, minTimeoutNs: 5e9 });
    const tx = w.dante.open();
    const sdp = (v: number, name = 'S') => `v=0\r\no=- 42 ${v} IN IP4 10.67.142.10\r\ns=${name}\r\nc=IN IP4 239.69.1.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n`;
    const send = (type: 'announce' | 'delete', hash: number, text: string) => tx.send(`${SAP_GROUP_DANTE}:9875`, buildSap({ messageType: type, msgIdHash: hash, origin: '10.67.142.10', sdp: text }));
    const step = (until: number) => runVirtual([listener], w.network, w.clock, { untilNs: until });
    send('announce', 1, sdp(5));
    step(1e6);
    expect(listener.sessions().map((s) => s.sessionVersion)).toEqual([5n]);
    send('announce', 2, sdp(6)); // new version under a new hash, no deletion sent
    step(2e6);
    expect(listener.sessions().map((s) => [s.msgIdHash, s.sessionVersion])).toEqual([[2, 6n]]);
    send('announce', 3, sdp(4)); // a stale version arriving late
    step(3e6);
    expect(listener.sessions().map((s) => s.sessionVersion)).toEqual([6n]);
    expect(listener.dropped.get('older-version')).toBe(1);
    send('delete', 2, sdp(6));
    step(4e6);
    expect(listener.sessions()).toEqual([]);
    expect(listener.deletions).toBe(1);
    send('announce', 7, sdp(1, 'T'));
    tx.send(`${SAP_GROUP_DANTE}:9875`, Buffer.from([0x00, 0, 0, 0])); // version 0
    tx.send(`${SAP_GROUP_DANTE}:9875`, Buffer.from([0x20]));
    step(5e6);
    expect(listener.find('T')).toBeDefined();
    expect(Object.fromEntries(listener.dropped)).toMatchObject({ 'bad-version': 1, truncated: 1 });
    step(5e6 + 5e9 + 1);
    expect(listener.find('T')).toBeUndefined();
    expect(listener.timeouts).toBe(1);
    listener.close();
  });
});
