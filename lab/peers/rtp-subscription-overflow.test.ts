// A burst larger than the lab receiver's socket buffer, on loopback: what the kernel drops
// is counted (metrics.socketOverflows) and is the figure the kernel itself shows in
// /proc/net/udp, and once a later packet arrives the drops are part of `lost`. This is how
// a report tells a loss on the lab's own host from one on the network or at the DUT.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../native/index.ts';
import { udpTransport } from '../net/lab-transport.ts';
import { serializeRtp } from '../net/rtp.ts';
import { buildAes67Sdp, describeAes67 } from '../net/sdp.ts';
import { RtpSubscription } from './rtp-subscription.ts';
import { systemTimescale } from './system-timescale.ts';

// A port of this file's own on the root namespace's loopback.
const PORT = 46990;

/** The "drops" column (the last) of /proc/net/udp for the one socket bound to `port`. */
function procNetUdpDrops(port: number): number {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const lines = readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .filter((l) => l.trim().split(/\s+/)[1]?.endsWith(local));
  if (lines.length !== 1) throw new Error(`${lines.length} sockets on port ${port} in /proc/net/udp, not one`);
  const line = lines[0];
  return Number(line.trim().split(/\s+/).at(-1));
}

describe.skipIf(!addonBuilt())('RtpSubscription on a real socket (native addon built)', () => {
  it("counts the datagrams its socket's full receive buffer dropped, as the kernel does", () => {
    const t = udpTransport('lo');
    const stream = describeAes67(
      buildAes67Sdp({ name: 'overflow', origin: { username: '-', sessionId: '1', sessionVersion: '1', address: '127.0.0.1' }, destination: '127.0.0.1', port: PORT, encoding: 'L24', sampleRate: 48000, channels: 8, ptimeUs: 1000, payloadType: 97, mediaclkOffset: 0 }),
    );
    const sub = new RtpSubscription({ transport: t, timescale: systemTimescale(t), stream, recordSeconds: 1 });
    const tx = t.open();
    const payload = new Uint8Array(48 * 8 * 3);
    const packet = (seq: number) => serializeRtp({ padding: false, marker: false, payloadType: 97, sequenceNumber: seq & 0xffff, timestamp: seq * 48, ssrc: 0x1234, csrcs: [], payload });
    try {
      // 4 MiB asked (8 MiB charged by the kernel) holds ~3,000 of these: 8,000 overflow it.
      const burst = 8000;
      for (let seq = 0; seq < burst; seq++) tx.send(`127.0.0.1:${PORT}`, packet(seq));
      sub.drain();
      const m = sub.metrics;
      expect(m.socketOverflows).toBeGreaterThan(0);
      expect(m.socketOverflows).toBe(procNetUdpDrops(PORT));
      expect(m.packets + m.socketOverflows).toBe(burst);
      // The dropped ones were the burst's tail: lost only once a later packet shows the gap.
      expect(m.lost).toBe(0);
      tx.send(`127.0.0.1:${PORT}`, packet(burst));
      for (let i = 0; i < 1000 && sub.drain() === 0; i++);
      expect(sub.metrics.lost).toBe(m.socketOverflows);
      sub.close();
      expect(sub.metrics.socketOverflows).toBe(m.socketOverflows);
    } finally {
      sub.close();
      tx.close();
    }
  });
});
