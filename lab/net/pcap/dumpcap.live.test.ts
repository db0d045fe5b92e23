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
      // Each send bracketed by clock reads: a preemption on a busy machine widens the
      // bracket instead of failing the test.
      const beforeMs: number[] = [], afterMs: number[] = [];
      const base = process.hrtime.bigint();
      const elapsedMs = () => Number(process.hrtime.bigint() - base) / 1e6;
      for (let i = 0; i < 20; i++) {
        while (process.hrtime.bigint() - base < BigInt(i) * 5_000_000n); // busy: this thread never yields
        beforeMs.push(elapsedMs());
        sock.send(`127.0.0.1:${PORT}`, new Uint8Array(64).fill(i));
        afterMs.push(elapsedMs());
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
      // Spaced as sent (5 ms apart or more): on lo the kernel stamps a frame inside its
      // sendto, so frame i's distance from frame 0 lies between the brackets' near and far
      // ends (0.2 ms for the two clocks' reads); a capture in this busy thread could only
      // have seen them all at once, afterwards.
      times.forEach((t, i) => {
        const ms = (t - times[0]) * 1e3;
        expect(ms, `frame ${i}`).toBeGreaterThan(beforeMs[i] - afterMs[0] - 0.2);
        expect(ms, `frame ${i}`).toBeLessThan(afterMs[i] - beforeMs[0] + 0.2);
      });
      expect(beforeMs[19] - afterMs[0]).toBeGreaterThan(90);
    } finally {
      stop.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
