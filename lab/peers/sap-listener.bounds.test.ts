// The lab's SapListener under a flood (issue 9, Bounds): 100,000 distinct sessions, and
// announcements whose zlib payload inflates to tens of kB. The retained JS heap (measured
// after a full garbage collection) stays under a bound computed from the configuration,
// maxSessions x what one session may hold, and stops growing once the table is full; the
// least recently heard sessions are evicted and counted; every datagram is accounted for.
import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../native/index.ts';
import { floodLabSapListener, type SapFloodResult } from './sap-listener-flood.ts';

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

describe.skipIf(!addonBuilt())('lab SapListener bounds', () => {
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
    // Flat once full: 99,000 more sessions leave the heap within 10% (plus 256 kB of V8's own
    // bookkeeping) of what the full table held.
    expect(r.peakBytes).toBeLessThanOrEqual(r.fullBytes * 1.1 + 256 * 1024);
    expect(r.endBytes).toBeLessThanOrEqual(r.fullBytes * 1.1 + 256 * 1024);
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
