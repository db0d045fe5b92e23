// Live capture through `cap` (libpcap) with a BPF filter, written to pcapng as it arrives.
// `cap` does not expose libpcap's per-packet time stamp, so frames are stamped when libpcap
// hands them to us (wall clock anchored once, advanced by the monotonic clock): good to
// tens of µs on an idle host, not NIC-grade. Use dumpcap for hardware time stamps.
import { createRequire } from 'node:module';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, PcapngWriter } from './pcapng-writer.ts';

const require = createRequire(import.meta.url);

interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}

const LINK_TYPES: Record<string, number> = { ETHERNET: LINKTYPE_ETHERNET, LINUX_SLL: LINKTYPE_LINUX_SLL, LINUX_SLL2: LINKTYPE_LINUX_SLL2, RAW: LINKTYPE_RAW, NULL: 0 };

export interface LiveCaptureOptions {
  interface: string;
  filter?: string;
  seconds: number;
  /** Stops the capture early (the file is closed cleanly). */
  signal?: AbortSignal;
  output: string;
  /** Stop after this many packets (bounds the file whatever the traffic). */
  maxPackets?: number;
  snapLength?: number;
  /** Called once libpcap is capturing. */
  onStart?: () => void;
}

export interface LiveCaptureResult {
  packets: number;
  bytes: number;
  linkType: number;
  truncated: number;
}

// `cap` asks libpcap for a 65535-byte snap length and immediate mode, in which Linux libpcap
// uses TPACKET_V2: a ring of fixed slots, each a power-of-two block that holds one frame of
// the snap length (128 KiB), whatever the frames' real size. The old 10 MiB ring held 80
// frames: at load 13 a 273 ms stall of this process lost 186 of ffmpeg's 1 ms packets that
// arrived meanwhile. 1024 slots (128 MiB of kernel memory while capturing) hold 1 s of one
// 1 ms stream; for more, dumpcap (dumpcap.ts) packs frames by their size.
const RING_SLOTS = 1024;
const SLOT_BYTES = 128 * 1024;

export function captureLive(o: LiveCaptureOptions): Promise<LiveCaptureResult> {
  if (!(o.seconds > 0 && o.seconds <= 86400)) throw new RangeError(`--seconds ${o.seconds}: give 0 < seconds ≤ 86400`);
  const { Cap } = require('cap') as { Cap: new () => CapHandle };
  const cap = new Cap();
  const snap = o.snapLength ?? 65535;
  const buffer = Buffer.alloc(snap);
  let linkName: string;
  try {
    linkName = cap.open(o.interface, o.filter ?? '', RING_SLOTS * SLOT_BYTES, buffer);
  } catch (e) {
    throw new Error(`capture on "${o.interface}" with filter "${o.filter ?? ''}": ${(e as Error).message} (is the interface up, the filter valid BPF, and are you root?)`);
  }
  const linkType = LINK_TYPES[linkName];
  if (linkType === undefined) {
    cap.close();
    throw new Error(`capture on "${o.interface}": link type ${linkName} is not one the lab reads (Ethernet, Linux SLL/SLL2, raw IP)`);
  }
  cap.setMinBytes?.(0);
  const writer = new PcapngWriter(o.output, 'aes67-lab capture (cap/libpcap)');
  const ifc = writer.addInterface({ linkType, snapLength: snap, name: o.interface });
  const wallStartNs = BigInt(Date.now()) * 1_000_000n;
  const monoStart = process.hrtime.bigint();
  const result: LiveCaptureResult = { packets: 0, bytes: 0, linkType, truncated: 0 };
  o.onStart?.();
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cap.close();
      writer.close();
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(), o.seconds * 1000);
    if (o.signal?.aborted) finish();
    o.signal?.addEventListener('abort', () => finish(), { once: true });
    cap.on('packet', (nbytes, truncated) => {
      if (done) return;
      try {
        const ts = wallStartNs + (process.hrtime.bigint() - monoStart);
        writer.writePacket(ifc, ts, buffer.subarray(0, nbytes));
        result.packets++;
        result.bytes += nbytes;
        if (truncated) result.truncated++;
        if (o.maxPackets !== undefined && result.packets >= o.maxPackets) finish();
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}
