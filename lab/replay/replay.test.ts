import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { addonBuilt, loadNative, projectRoot } from '../../native/index.ts';
import { replayVirtual } from './replay-virtual.ts';
import { paceAbsolute, type PacingClock } from './scheduler.ts';
import { sharedCaptures } from '../net/pcap/shared-captures.ts';
import { tsharkFields } from '../net/tshark.ts';
import { tsharkRtpStreams } from '../analyze/tshark-rtp-streams.ts';
import { withTempDir } from '../net/test-support.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';
import type { ReplayOptions } from './replay-source.ts';

const find = (name: string) => sharedCaptures().find((c) => c.endsWith(name));
const L16 = find('l16_48000_2ch_1ms.pcap');
const SMALL = find('st2110-30_24bit_48khz_1ms_2ch.pcap');

/** Replays into a fresh virtual network; returns what one receiver got, in order. */
function virtualRun(file: string, group: string, port: number, options: ReplayOptions = {}) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 50_000);
  network.addHost('dut', '10.67.20.200');
  const rx = network.openSocket('10.67.20.200', { port, receiveQueueLimit: 1 << 20 });
  rx.join(group);
  const got: { at: number; data: Buffer; source: string }[] = [];
  const drain = () => {
    for (let d = rx.receive(); d; d = rx.receive()) got.push({ at: d.receivedAt, data: d.data, source: d.source });
  };
  replayVirtual(file, network, clock, { ...options, startNs: 1_000_000_000, onTick: drain });
  drain();
  return got;
}

describe.skipIf(!addonBuilt() || !L16)('replay in virtual time', () => {
  it('delivers every datagram of the capture, byte for byte, at its captured time plus the network delay', () => {
    const got = virtualRun(L16!, '239.31.114.5', 5004);
    const theirs = tsharkFields(L16!, ['frame.time_relative', 'udp.payload'], ['-Y', 'udp']);
    expect(got.length).toBe(theirs.length);
    got.forEach((g, i) => {
      expect(g.data.toString('hex')).toBe(theirs[i][1].replace(/:/g, ''));
      // tshark prints relative times to the nanosecond.
      expect(g.at - 1_000_000_000 - 50_000).toBe(Math.round(Number(theirs[i][0]) * 1e9));
    });
    const again = virtualRun(L16!, '239.31.114.5', 5004);
    expect(again.map((g) => `${g.at}${g.data.toString('hex')}`)).toEqual(got.map((g) => `${g.at}${g.data.toString('hex')}`));
  });

  it('loops with continuous sequence numbers and timestamps, and rewrites SSRC and destination: tshark sees one clean stream', () => {
    const got = virtualRun(SMALL!, '239.69.20.9', 6000, { loops: 3, ssrc: 0x0a67c0de, map: new Map([['239.30.144.1:50030', '239.69.20.9:6000']]) });
    const original = tsharkRtpStreams(SMALL!)[0];
    expect(got.length).toBe(3 * original.packets);
    withTempDir((dir) => {
      const file = path.join(dir, 'replayed.pcapng');
      const w = new PcapngWriter(file);
      const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET });
      for (const g of got) w.writePacket(ifc, 1_700_000_000_000_000_000n + BigInt(g.at), buildUdpFrame({ sourceIp: g.source.split(':')[0], destinationIp: '239.69.20.9', sourcePort: Number(g.source.split(':')[1]), destinationPort: 6000, payload: g.data }));
      w.close();
      const streams = tsharkRtpStreams(file);
      expect(streams.length).toBe(1);
      expect(streams[0]).toMatchObject({ ssrc: 0x0a67c0de, packets: 3 * original.packets, lost: 0, problem: false, destination: '239.69.20.9:6000' });
      const ts = tsharkFields(file, ['rtp.timestamp'], ['-o', 'rtp.heuristic_rtp:TRUE']).map((r) => Number(r[0]));
      const steps = new Set(ts.slice(1).map((t, i) => (t - ts[i]) >>> 0));
      expect([...steps]).toEqual([(ts[1] - ts[0]) >>> 0]); // one step throughout, across loop seams
    });
  });
});

describe('absolute-time pacing', () => {
  it('does not carry oversleeping from one packet into the next (no cumulative drift)', async () => {
    // A clock whose sleeps overshoot by up to 3 ms, deterministically.
    let now = 0;
    let k = 0;
    const oversleeping: PacingClock = { now: () => now, sleep: async (ns) => void (now += ns + ((k++ * 7919) % 3_000_000)) };
    const times = Array.from({ length: 2000 }, (_, i) => i * 125_000); // 125 µs packets
    const sentAt: number[] = [];
    const stats = await paceAbsolute(times, (t) => t, () => sentAt.push(now), oversleeping);
    expect(stats.sent).toBe(times.length);
    sentAt.forEach((t, i) => {
      expect(t).toBeGreaterThanOrEqual(times[i]);
      expect(t - times[i]).toBeLessThan(3_000_000 + 125_000); // bounded by one oversleep
    });
    expect(stats.maxLatenessNs).toBeLessThan(3_125_000);
  });
});

describe.skipIf(process.getuid?.() !== 0 || !SMALL)('replay in real time (loopback)', () => {
  it('sends the capture to a rewritten destination with a rewritten SSRC; a live capture of lo holds it all', async () => {
    const port = 30000 + (process.pid % 20000);
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'lo.pcapng');
      const bin = path.join(projectRoot, 'lab/cli/bin.ts');
      const { spawn } = await import('node:child_process');
      const cap = spawn(process.execPath, ['--import', 'tsx', bin, 'capture', '--interface', 'lo', '--filter', `udp dst port ${port}`, '--seconds', '25', '-o', file], { cwd: projectRoot });
      const guard = setTimeout(() => cap.kill('SIGKILL'), 30_000);
      await new Promise<void>((resolve) => cap.stderr.on('data', (d) => String(d).includes('capturing on') && resolve()));
      const r = spawnSync(process.execPath, ['--import', 'tsx', bin, 'replay', SMALL!, '--to', `127.0.0.1:${port}`, '--ssrc', '4660'], { encoding: 'utf8', cwd: projectRoot, timeout: 20_000 });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/replayed 128 datagrams; lateness mean [\d.]+ µs, max [\d.]+ µs; send errors 0/);
      console.log(r.stdout.trim());
      // The capture window is long; SIGINT ends it once the replay is done, so load cannot
      // push packets outside it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      cap.kill('SIGINT');
      await new Promise((resolve) => cap.on('exit', resolve));
      clearTimeout(guard);
      const rows = tsharkFields(file, ['rtp.ssrc', 'rtp.seq'], ['-d', `udp.port==${port},rtp`]);
      const original = tsharkFields(SMALL!, ['rtp.seq'], ['-d', 'udp.port==50030,rtp']);
      expect(rows.map((x) => x[0])).toEqual(original.map(() => '0x00001234'));
      expect(rows.map((x) => x[1])).toEqual(original.map((x) => x[0]));
    });
  });
});

describe.skipIf(!SMALL)('RTP timestamp rebase', () => {
  it('moves the first timestamp to the given media-clock time and keeps every step tshark sees in the original', async () => {
    const { replayDatagrams } = await import('./replay-source.ts');
    const original = tsharkFields(SMALL!, ['rtp.timestamp', 'rtp.seq'], ['-d', 'udp.port==50030,rtp']).map((r) => [Number(r[0]), Number(r[1])]);
    const startTicks = 4_294_967_000; // wraps within the first packets
    const rebased = Array.from(replayDatagrams(SMALL!, { rebase: { clockRates: new Map([['239.30.144.1:50030', 48000]]), startTicks: () => startTicks } }), (d) => {
      const v = new DataView(d.payload.buffer, d.payload.byteOffset);
      return [v.getUint32(4), v.getUint16(2)];
    });
    expect(rebased.length).toBe(original.length);
    rebased.forEach(([ts, seq], i) => {
      expect(ts).toBe((startTicks + original[i][0] - original[0][0]) >>> 0);
      expect(seq).toBe(original[i][1]);
    });
  });
});
