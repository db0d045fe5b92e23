// dumpcap in its own process stamps frames when the kernel saw them: datagrams sent 5 ms
// apart while this thread never yields (so an in-process capture could only see them all
// at once, afterwards) are 5 ms apart in the file, as tshark reads it; every one sent once
// `started` resolved is in the file, and the summary's packet
// count is the file's; an abort ends the capture early with a complete file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../../native/index.ts';
import { udpTransport } from '../lab-transport.ts';
import { dumpcapAvailable, startDumpcap } from './dumpcap.ts';

const isRoot = process.getuid?.() === 0;
const hasTshark = execFileSync('sh', ['-c', 'command -v tshark || true'], { encoding: 'utf8' }).trim() !== '';
// A port of this file's own on the root namespace's loopback.
const PORT = 46991;

describe.skipIf(!isRoot || !dumpcapAvailable() || !hasTshark || !addonBuilt())('dumpcap capture (root, dumpcap, tshark and the native addon)', () => {
  it('stamps frames with the kernel time, counts them, and stops early on abort with a complete file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'a67dc-'));
    const output = path.join(dir, 'c.pcapng');
    const stop = new AbortController();
    try {
      const c = startDumpcap({ interface: 'lo', filter: `udp dst port ${PORT}`, seconds: 60, output, signal: stop.signal });
      await c.started;
      // The native socket's send is a sendto: each datagram leaves when it is sent.
      const sock = udpTransport('lo').open();
      const sentMs: number[] = [];
      const base = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) {
        while (process.hrtime.bigint() - base < BigInt(i) * 5_000_000n); // busy: this thread never yields
        sentMs.push(Number(process.hrtime.bigint() - base) / 1e6);
        sock.send(`127.0.0.1:${PORT}`, new Uint8Array(64).fill(i));
      }
      sock.close();
      // dumpcap reads libpcap's ring in its own time: give it that before the abort ends the capture.
      await new Promise((res) => setTimeout(res, 1_000));
      stop.abort();
      const r = await c.done;
      expect(r.packets).toBe(20);
      expect(r.dropped).toBe(0);
      const times = execFileSync('tshark', ['-r', output, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(times).toHaveLength(20);
      // Spaced as sent (5 ms apart or more): stamped by the kernel, not when a capture
      // in this (busy) thread could have looked. 2 ms: a preemption between the clock read and the send.
      times.forEach((t, i) => expect(Math.abs((t - times[0]) * 1e3 - (sentMs[i] - sentMs[0]))).toBeLessThan(2));
      expect(sentMs[19] - sentMs[0]).toBeGreaterThan(90);
    } finally {
      stop.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
