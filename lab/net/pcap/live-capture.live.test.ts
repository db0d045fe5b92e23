// The in-process capture (cap) keeps every frame that arrives while this process is stalled,
// up to its ring's 1024 slots: 800 datagrams of 1 ms audio size sent while the event loop is
// blocked (so none is read until the end) are all in the file, as tshark reads it. The old
// 10 MiB ring kept 80.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../../native/index.ts';
import { udpTransport } from '../lab-transport.ts';
import { captureLive } from './live-capture.ts';

const isRoot = process.getuid?.() === 0;
const hasTshark = execFileSync('sh', ['-c', 'command -v tshark || true'], { encoding: 'utf8' }).trim() !== '';
// A port of this file's own on the root namespace's loopback.
const PORT = 46993;
const SENT = 800;

describe.skipIf(!isRoot || !hasTshark || !addonBuilt())('in-process capture (root, tshark and the native addon)', () => {
  it(`keeps ${SENT} frames that arrived while the capturing process was stalled`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'a67lc-'));
    const output = path.join(dir, 'c.pcapng');
    const stop = new AbortController();
    try {
      let started = false;
      const done = captureLive({ interface: 'lo', filter: `udp dst port ${PORT}`, seconds: 30, output, signal: stop.signal, onStart: () => (started = true) });
      expect(started).toBe(true);
      // Synchronous sends (sendto) from this thread: the event loop, and so the capture's
      // reader, does not run until all are sent.
      const sock = udpTransport('lo').open();
      for (let i = 0; i < SENT; i++) sock.send(`127.0.0.1:${PORT}`, new Uint8Array(300).fill(i & 255));
      sock.close();
      // The reader drains the ring once the event loop runs again.
      await new Promise((r) => setTimeout(r, 1_000));
      stop.abort();
      const r = await done;
      expect(r.packets).toBe(SENT);
      expect(r.truncated).toBe(0);
      const lengths = execFileSync('tshark', ['-r', output, '-T', 'fields', '-e', 'udp.length'], { encoding: 'utf8' }).trim().split('\n');
      expect(lengths).toHaveLength(SENT);
      expect(new Set(lengths)).toEqual(new Set(['308']));
    } finally {
      stop.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
