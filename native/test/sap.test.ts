// The engine's SAP codec, announcer and listener (through native): packets it writes are
// dissected by tshark without a malformed or expert-error entry and read by the lab's
// codec; it inflates a payload compressed by another zlib (Python's); and listener and
// announcer find each other on the virtual network.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import { parseSap as parseSapTs, SAP_GROUP_DANTE, SAP_GROUP_RFC2974, SAP_PORT } from '../../lab/net/sap.ts';
import { tsharkFields, tsharkProblems } from '../../lab/net/tshark.ts';
import { withTempDir, writeUdpCapture } from '../../lab/net/test-support.ts';

const native = loadNative();
const SDP = 'v=0\r\no=- 1 1 IN IP4 10.67.20.5\r\ns=AVIO USB : 2\r\nc=IN IP4 239.69.20.5/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n';

/** Every datagram the engine's announcer sends on a virtual network, in virtual time. */
function engineAnnouncements(compress: boolean) {
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 0);
  network.addHost('announcer', '10.67.20.5');
  const sent: { destination: string; data: Buffer }[] = [];
  network.setImpairment((p) => {
    sent.push({ destination: p.destination, data: Buffer.from(p.data) });
    return [0];
  });
  const announcer = new native.SapAnnouncer({ network, host: '10.67.20.5' }, { intervalNs: 1e9, compress });
  const h = announcer.add(SDP);
  announcer.poll();
  clock.advanceBy(1e9);
  announcer.poll();
  announcer.update(h, SDP.replace('s=AVIO USB : 2', 's=AVIO USB, renamed'));
  announcer.poll();
  announcer.stop();
  return sent;
}

describe('engine SAP through native', () => {
  it('writes announcements and deletions tshark dissects cleanly and the lab codec reads identically', () => {
    const sent = engineAnnouncements(false);
    expect(sent.map((s) => s.destination)).toEqual(Array(5).fill(`${SAP_GROUP_DANTE}:${SAP_PORT}`));
    withTempDir((dir) => {
      const file = path.join(dir, 'engine-sap.pcapng');
      writeUdpCapture(file, sent.map((s) => ({ sourceIp: '10.67.20.5', destinationIp: SAP_GROUP_DANTE, sourcePort: 40000, destinationPort: SAP_PORT, payload: s.data })));
      expect(tsharkProblems(file)).toEqual([]);
      const rows = tsharkFields(file, ['sap.flags.v', 'sap.flags.t', 'sap.flags.c', 'sap.message_identifier_hash', 'sap.originating_source', 'sap.payload_type', 'sdp.session_name']);
      expect(rows.length).toBe(5);
      rows.forEach(([v, t, c, hash, origin, payloadType, name], i) => {
        const ours = native.parseSap(sent[i].data);
        if (ours.error !== undefined) throw new Error(ours.error);
        const { sdpBytes: _bytes, ...fields } = ours;
        expect(fields).toEqual(parseSapTs(sent[i].data));
        expect([ours.version, ours.messageType, ours.compressed, ours.msgIdHash, ours.origin, ours.payloadType]).toEqual(
          [Number(v), t === 'True' || t === '1' ? 'delete' : 'announce', c === 'True' || c === '1', Number(hash), origin, payloadType]);
        expect(ours.sdp).toContain(`s=${name}\r\n`);
      });
      // announce, announce, delete (old hash), announce (new hash), delete (stop)
      expect(rows.map((r) => r[1] === 'True' || r[1] === '1')).toEqual([false, false, true, false, true]);
    });
  });

  it('compressed announcements are read by the lab codec (Node zlib) and Python zlib-compressed ones by the engine', () => {
    expect(native.sapHasZlib).toBe(true);
    for (const s of engineAnnouncements(true)) {
      const ours = native.parseSap(s.data);
      if (ours.error !== undefined) throw new Error(ours.error);
      expect(ours.compressed).toBe(true);
      expect(parseSapTs(s.data)).toMatchObject({ compressed: true, sdp: ours.sdp, msgIdHash: ours.msgIdHash });
    }
    const script = [
      'import sys, zlib',
      'sdp = sys.stdin.buffer.read()',
      'hdr = bytes([0x21, 1, 0xab, 0xcd, 10, 67, 20, 9]) + bytes([0x10, 0, 0, 0])',
      'sys.stdout.buffer.write(hdr + zlib.compress(b"application/sdp\\0" + sdp, 9))',
    ].join('\n');
    const packet = execFileSync('python3', ['-c', script], { input: SDP });
    expect(native.parseSap(packet)).toMatchObject({ compressed: true, msgIdHash: 0xabcd, origin: '10.67.20.9', payloadType: 'application/sdp', sdp: SDP });
    expect(native.parseSap(Buffer.concat([packet.subarray(0, 20), Buffer.from([1, 2, 3])]))).toEqual({ error: 'decompress-failed' });
  });

  it('listener finds the announcer on both SAP groups, sees deletions, counts bad datagrams by reason', () => {
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 50_000);
    network.addHost('dante', '10.67.20.11');
    network.addHost('rfc', '10.67.20.12');
    network.addHost('dut', '10.67.20.2');
    const listener = new native.SapListener({ network, host: '10.67.20.2' });
    const dante = new native.SapAnnouncer({ network, host: '10.67.20.11' }, { intervalNs: 30e9 });
    const rfc = new native.SapAnnouncer({ network, host: '10.67.20.12' }, { group: `${SAP_GROUP_RFC2974}:${SAP_PORT}`, intervalNs: 30e9 });
    dante.add(SDP);
    const h = rfc.add(SDP.replace('10.67.20.5', '10.67.20.12'));
    const junk = network.openSocket('10.67.20.11');
    junk.send(`${SAP_GROUP_DANTE}:${SAP_PORT}`, Uint8Array.of(0x20, 0));
    junk.send(`${SAP_GROUP_DANTE}:${SAP_PORT}`, native.buildSap({ messageType: 'announce', msgIdHash: 1, origin: '10.67.20.11', sdp: 'not sdp' }));
    for (let t = 0; t <= 61e9; t += 1e9) {
      clock.advanceTo(t);
      dante.poll();
      rfc.poll();
      network.deliverDue();
      clock.advanceBy(100_000);
      network.deliverDue();
      listener.poll();
    }
    const sessions = listener.sessions();
    expect(sessions.map((s) => s.origin).sort()).toEqual(['10.67.20.11', '10.67.20.12']);
    expect(sessions.every((s) => s.announcements === 3 && s.interval === 30e9)).toBe(true);
    expect(listener.stats().dropped).toMatchObject({ truncated: 1, 'bad-sdp': 1 });
    rfc.remove(h);
    network.deliverDue();
    clock.advanceBy(100_000);
    network.deliverDue();
    listener.poll();
    expect(listener.sessions().map((s) => s.origin)).toEqual(['10.67.20.11']);
    expect(listener.events().map((e) => e.event)).toEqual(['added', 'added', 'deleted']);
  });
});
