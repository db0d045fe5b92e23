// The lab's SapListener under a flood (issue 9, Bounds): 100,000 distinct sessions, and
// announcements whose zlib payload inflates to tens of kB. The retained JS heap (measured
// after a full garbage collection) stays under a bound computed from the configuration,
// maxSessions x what one session may hold, and stops growing once the table is full; the
// least recently heard sessions are evicted and counted; every datagram is accounted for.
// And hostile datagrams from empty to 64 KiB into the lab's and the engine's listener at
// once: each drops every one for the same reason.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { buildSap, SAP_GROUP_DANTE, SAP_PORT } from '../net/sap.ts';
import { floodLabSapListener, floodSdp, type SapFloodResult } from './sap-listener-flood.ts';
import { SapListener } from './sap-listener.ts';

const DEFAULT_MAX_SDP_BYTES = 8192;

/**
 * What one kept session may retain: its SDP text (two bytes a character at worst, as V8
 * keeps a string with any non-Latin-1 character), the stream description derived from it
 * (never more than the text again), and the object, key and index entries around them.
 */
function perSessionBound(maxSdpBytes: number): number {
  return 2 * maxSdpBytes + 2 * maxSdpBytes + 4096;
}

function droppedTotal(r: SapFloodResult): number {
  return Object.values(r.dropped).reduce((a, b) => a + b, 0);
}

/** A SAP header (version 1, IPv4 origin 10.67.198.1, no authentication data) and a payload. */
function sapWith(flags: number, hash: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out.set([0x20 | flags, 0, hash >> 8, hash & 255, 10, 67, 198, 1], 0);
  out.set(payload, 8);
  return out;
}

describe.skipIf(!addonBuilt())('lab SapListener bounds', () => {
  it('oversize and undersize datagrams: the engine\'s and the lab\'s listener drop each one, for the same reason', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 1000);
    const tx = virtualHost(network, clock, '10.67.198.1').open();
    const lab = new SapListener({ transport: virtualHost(network, clock, '10.67.198.2') });
    virtualHost(network, clock, '10.67.198.3');
    const engine = new native.SapListener({ network, host: '10.67.198.3' });
    const intended = new Map<string, number>();
    const send = (datagram: Uint8Array, reason: string) => {
      tx.send(`${SAP_GROUP_DANTE}:${SAP_PORT}`, datagram);
      intended.set(reason, (intended.get(reason) ?? 0) + 1);
    };
    const valid = buildSap({ messageType: 'announce', msgIdHash: 7, origin: '10.67.198.1', sdp: floodSdp(7) });
    // Every length from 0 to 12 bytes: the header and origin cut (truncated), then the payload
    // type cut before its NUL (bad-payload-type).
    for (let n = 0; n <= 12; n++) send(valid.subarray(0, n), n < 8 ? 'truncated' : 'bad-payload-type');
    const auth = Uint8Array.from(valid);
    auth[1] = 255; // 1,020 bytes of authentication data announced, about 250 present
    send(auth, 'truncated');
    send(sapWith(0x01, 8, deflateSync(Buffer.concat([Buffer.from('application/sdp\0'), Buffer.alloc(200_000, 'v')]))), 'decompress-failed'); // a zlib bomb: 200 kB from ~200 bytes
    const cut = buildSap({ messageType: 'announce', msgIdHash: 9, origin: '10.67.198.1', sdp: floodSdp(9), compressed: true });
    send(cut.subarray(0, cut.length - 4), 'decompress-failed'); // the stream's end is missing
    // The largest UDP payload, 65,507 bytes, a valid header and SDP: too large to keep.
    const jumbo = buildSap({ messageType: 'announce', msgIdHash: 10, origin: '10.67.198.1', sdp: floodSdp(10, 65_507 - 24) }).subarray(0, 65_507);
    expect(jumbo.length).toBe(65_507);
    send(jumbo, 'sdp-too-large');
    send(buildSap({ messageType: 'announce', msgIdHash: 11, origin: '10.67.198.1', sdp: floodSdp(11, 60_000), compressed: true }), 'sdp-too-large');
    send(sapWith(0, 12, new Uint8Array()).map((b, i) => (i === 0 ? 0x00 : b)), 'bad-version'); // SAPv0
    send(sapWith(0x02, 13, new Uint8Array([1, 2, 3])), 'encrypted');
    send(buildSap({ messageType: 'announce', msgIdHash: 14, origin: '10.67.198.1', sdp: 'hello', payloadType: 'text/plain' }), 'not-sdp');
    send(buildSap({ messageType: 'announce', msgIdHash: 15, origin: '10.67.198.1', sdp: 'v=0\r\nthis is not sdp\r\n' }), 'bad-sdp');
    tx.send(`${SAP_GROUP_DANTE}:${SAP_PORT}`, valid);
    runVirtual([lab, { poll: () => (engine.poll(), Infinity) }], network, clock, { untilNs: clock.now() + 10e6 });
    const engineDropped = Object.fromEntries(Object.entries(engine.stats().dropped).filter(([, n]) => n > 0));
    expect(engineDropped).toEqual(Object.fromEntries(intended));
    expect(Object.fromEntries(lab.dropped)).toEqual(Object.fromEntries(intended));
    expect(engine.sessions().map((s) => s.msgIdHash)).toEqual([7]);
    expect(lab.sessions().map((s) => s.msgIdHash)).toEqual([7]);
    lab.close();
    engine.close();
  });

  it('100,000 distinct sessions: the newest maxSessions are kept, the rest evicted and counted, the heap bounded and flat once full', () => {
    const maxSessions = 1024;
    const r = floodLabSapListener({ sessions: 100_000, maxSessions });
    console.log(`[ bounds ] lab SapListener, 100,000 sessions, maxSessions ${maxSessions}: idle ${r.idleBytes} B, full table ${r.fullBytes} B, peak ${r.peakBytes} B, end ${r.endBytes} B`);
    expect(r.kept).toBe(maxSessions);
    expect(r.evicted).toBe(100_000 - maxSessions);
    expect(droppedTotal(r)).toBe(0);
    expect(r.kept + r.evicted + droppedTotal(r)).toBe(r.sent);
    expect(r.fullBytes).toBeGreaterThan(0);
    expect(r.peakBytes).toBeLessThanOrEqual(maxSessions * perSessionBound(DEFAULT_MAX_SDP_BYTES));
    // Flat once full and turning over: from the first checkpoints (5,000-25,000 sessions; full
    // since 1,024) to the last ones (80,000-100,000), the median retained heap grows by less
    // than 5% + 96 kB (a leak of 3 bytes a session adds ~225 kB between them). Medians, because
    // one checkpoint can sit ~250 kB high once (a unit run at load 11-14 saw it: V8's own
    // heap, compiled code and feedback installed late, not the table's); the first
    // turn-over's one-time ~150-470 kB over the moment the table first filled is before them.
    // Every checkpoint stays within 10% + 512 kB of the first.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const steady = r.checkpointBytes[0];
    expect(r.checkpointBytes.length).toBe(20);
    expect(steady).toBeGreaterThanOrEqual(r.fullBytes * 0.9);
    const first = median(r.checkpointBytes.slice(0, 5));
    const last = median([...r.checkpointBytes.slice(-4), r.endBytes]);
    console.log(`[ bounds ] checkpoints (kB over the first): ${r.checkpointBytes.map((b) => ((b - steady) / 1024).toFixed(0)).join(' ')}; median growth ${((last - first) / 1024).toFixed(1)} kB`);
    expect(last - first).toBeLessThanOrEqual(first * 0.05 + 96 * 1024);
    for (const b of r.checkpointBytes) expect(b).toBeLessThanOrEqual(steady * 1.1 + 512 * 1024);
  }, 180_000);

  it('zlib payloads inflating to 60 kB are dropped as sdp-too-large; SDPs at the limit are kept within maxSessions x one session', () => {
    const maxSessions = 256;
    const big = floodLabSapListener({ sessions: 1500, maxSessions, padTo: 60_000, compressed: true });
    expect(big.dropped['sdp-too-large']).toBe(1500);
    expect(big.kept).toBe(0);
    const atLimit = floodLabSapListener({ sessions: 1500, maxSessions, padTo: DEFAULT_MAX_SDP_BYTES - 100, compressed: true });
    console.log(`[ bounds ] lab SapListener, zlib: 1,500 inflating to 60 kB: peak ${big.peakBytes} B, all dropped; 1,500 at the limit, maxSessions ${maxSessions}: full ${atLimit.fullBytes} B, peak ${atLimit.peakBytes} B`);
    expect(droppedTotal(atLimit)).toBe(0);
    expect(atLimit.kept).toBe(maxSessions);
    expect(atLimit.evicted).toBe(1500 - maxSessions);
    expect(atLimit.peakBytes).toBeLessThanOrEqual(maxSessions * perSessionBound(DEFAULT_MAX_SDP_BYTES));
    // Nothing of a dropped SDP is kept: the heap after 1,500 of them is an idle listener's
    // (plus V8's own bookkeeping).
    expect(big.endBytes).toBeLessThanOrEqual(big.idleBytes + 256 * 1024);
  }, 180_000);
});
