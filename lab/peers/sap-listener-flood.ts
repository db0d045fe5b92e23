// A SAP flood into the lab's SapListener on the native virtual network, with the JS heap it
// retains measured (after a full garbage collection) when idle, when the table first fills,
// at checkpoints through the flood and at the end. Used by sap-listener.bounds.test.ts and
// bench/bounds.ts. Needs the native addon.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { loadNative } from '../../native/index.ts';
import { VirtualRun, virtualHost } from '../net/lab-transport.ts';
import { buildSap, SAP_GROUP_DANTE, SAP_PORT } from '../net/sap.ts';
import { SapListener } from './sap-listener.ts';

export interface SapFloodOptions {
  sessions: number;
  maxSessions: number;
  maxSdpBytes?: number;
  /** Pad each SDP with a=x-pad lines to at least this many bytes. */
  padTo?: number;
  /** zlib-compress each announcement (small on the wire, large inflated). */
  compressed?: boolean;
  /** Measure the heap every this many sessions (default sessions / 20). */
  checkpointEvery?: number;
  /** The code is compiled already (no warm-up flood first). */
  warm?: boolean;
}

/** Sessions of the warm-up flood that compiles the flood's code before a measured one. */
const WARM_UP_SESSIONS = 5000;

export interface SapFloodResult {
  /** Retained JS heap (bytes) of an idle listener, above the heap before it existed. */
  idleBytes: number;
  /** Retained heap when the table first held maxSessions (0 if it never did). */
  fullBytes: number;
  /** The highest retained heap at any checkpoint. */
  peakBytes: number;
  /** The retained heap at each checkpoint (every checkpointEvery sessions), above the heap before. */
  checkpointBytes: number[];
  endBytes: number;
  kept: number;
  evicted: number;
  dropped: Record<string, number>;
  /** Datagrams sent; every one is a session kept or evicted, or dropped by reason. */
  sent: number;
}

let collect: (() => void) | undefined;
/** A full, synchronous garbage collection (V8's gc(), exposed at run time). */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
}

function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** An AES67 SDP for session i, padded with a=x-pad lines to at least padTo bytes. */
export function floodSdp(i: number, padTo = 0): string {
  let s = `v=0\r\no=- ${1000000 + i} 1 IN IP4 10.67.0.1\r\ns=flood ${i}\r\nc=IN IP4 239.69.0.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n`;
  while (s.length < padTo) s += `a=x-pad:${'p'.repeat(Math.min(100, padTo - s.length + 1))}\r\n`;
  return s;
}

/** The origin of flood session i: a distinct announcer for each. */
export function floodOrigin(i: number): string {
  const n = (10 << 24) + (64 << 16) + i;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function floodLabSapListener(o: SapFloodOptions): SapFloodResult {
  // The same flood's code run first on a listener of its own, so that what V8 compiles
  // while the measured flood goes on (optimized code and its feedback live on the heap too:
  // a CI run once saw ~90 kB of it after the table was full) is not taken for retention.
  if (!o.warm) floodLabSapListener({ ...o, sessions: Math.min(o.sessions, WARM_UP_SESSIONS), checkpointEvery: Number.MAX_SAFE_INTEGER, warm: true });
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 1000);
  const tx = virtualHost(network, clock, '10.67.199.1').open();
  const rxHost = virtualHost(network, clock, '10.67.199.2');
  const before = retainedHeap();
  const listener = new SapListener({ transport: rxHost, maxSessions: o.maxSessions, maxSdpBytes: o.maxSdpBytes });
  const idle = retainedHeap();
  const every = o.checkpointEvery ?? Math.max(1, Math.floor(o.sessions / 20));
  let full = 0;
  let peak = idle;
  const checkpoints: number[] = [];
  const run = new VirtualRun([listener], network, clock);
  for (let i = 0; i < o.sessions; i++) {
    const datagram = buildSap({ messageType: 'announce', msgIdHash: 1 + (i % 65535), origin: floodOrigin(i), sdp: floodSdp(i, o.padTo), compressed: o.compressed });
    tx.send(`${SAP_GROUP_DANTE}:${SAP_PORT}`, datagram);
    run.until({ untilNs: clock.now() + 10_000 });
    if (full === 0 && listener.sessions().length === o.maxSessions) {
      full = retainedHeap();
      peak = Math.max(peak, full);
    }
    if ((i + 1) % every === 0) {
      const now = retainedHeap();
      checkpoints.push(now - before);
      peak = Math.max(peak, now);
    }
  }
  const end = retainedHeap();
  peak = Math.max(peak, end);
  const result: SapFloodResult = {
    idleBytes: idle - before,
    fullBytes: full === 0 ? 0 : full - before,
    peakBytes: peak - before,
    checkpointBytes: checkpoints,
    endBytes: end - before,
    kept: listener.sessions().length,
    evicted: listener.evicted,
    dropped: Object.fromEntries(listener.dropped),
    sent: o.sessions,
  };
  listener.close();
  return result;
}
