// Shared by tests: temporary files and captures of UDP datagrams the test builds itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LINKTYPE_ETHERNET, PcapngWriter } from './pcap/pcapng-writer.ts';
import { buildUdpFrame, type UdpFrameSpec } from './udp-frame.ts';

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'a67cap-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let result: T;
  try {
    result = fn(dir);
  } catch (e) {
    cleanup();
    throw e;
  }
  if (result instanceof Promise) return result.finally(cleanup) as T;
  cleanup();
  return result;
}

/** Writes the datagrams as Ethernet frames, 1 ms apart, into a pcapng file. */
export function writeUdpCapture(file: string, datagrams: UdpFrameSpec[], comments: (string | undefined)[] = []): void {
  const w = new PcapngWriter(file);
  const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'test' });
  datagrams.forEach((d, i) => w.writePacket(ifc, 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, buildUdpFrame(d), comments[i]));
  w.close();
}
