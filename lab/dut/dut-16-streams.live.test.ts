// NOT in `npm test` (run by `npm run soak:real`): in the clean-clone CI rehearsal of
// 2026-11-25 it exceeded its 400 s bound although every channel came back clean (the
// wall time went before the final figures: the receiver and sender processes' exits),
// and under load it failed 1 run in 3 with 2 glitches per channel in 8 streams while
// the DUT's RX was clean (the lab's Node peers stall first). Back into `npm test` once
// it is bounded and steady on the CI host.
// 16 streams at once, live (help-wanted list in ../shared/seed): the lab's Aes67Sender x 16
// (udpTransport, 8 channels of L24 48 kHz 1 ms each: 128 channels, 16 000 packets/s) in
// namespace A -> the software DUT in B with 16 RX streams onto its 128 inputs, loopback, 16
// TX streams from its 128 outputs -> 16 lab Aes67Receivers in C. Every channel carries its
// own frequency (stream k: 400 + 97 k Hz, + 13 Hz per channel), so a crossed or shifted
// channel shows; every channel must come back at its frequency with no glitch (the lab's
// glitch detector), every stream without loss. The DUT takes the senders as sender-clocked
// (PTP is not what this crossing is about).
//
// What it takes on a 2-core host shared with other work (measured while writing this):
// - one Node process polling 16 senders through runRealTime (setImmediate spin below 1 ms)
//   fell seconds behind (lateness mean 255 ms, >1 M packets skipped); so the peers here run
//   in 4 processes, poll on a 1 ms timer (multi-stream-peers.ts) and run SCHED_FIFO 20
//   (below the DUT's threads) when permitted, dropping it before their analysis;
// - the lab's glitch detector costs ~0.35 s of CPU per 6 s channel, so the receivers analyse
//   4 s (128 channels: tens of seconds of CPU after the window, off the clock);
// - the DUT is judged over the receivers' window after a steady warm-up (every RX at ~1000
//   packets/s, no playout glitch added for a second): the senders' start under tsx is not
//   the DUT's doing. The window is sampled every 500 ms so a failure says when it happened.
// If the host cannot carry it, the test fails with the figures that show where (which side
// lost what, the DUT's IO and TX lateness); it is not loosened. A67X_STREAMS=n runs n streams.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { projectRoot } from '../../native/index.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess, type DutStatusJson } from './dut-client.ts';
import type { StreamResult } from './multi-stream-peers.ts';
import { missingForDut, chrtWorks, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut([]) : usable.reason;
const SUBNET = 155;
const STREAMS = Number(process.env.A67X_STREAMS ?? 16);
const CHANNELS = 8;
const RECEIVE_S = 4;
const PROCESSES = Number(process.env.A67X_PEER_PROCESSES ?? 4);
const PEERS = path.join(projectRoot, 'lab/dut/multi-stream-peers.ts');
const baseHz = (k: number) => 400 + 97 * k;
const STEP_HZ = 13;

describe.skipIf(missing !== undefined)(`aes67-dut with ${STREAMS} x ${CHANNELS}-channel streams in and out (${missing ?? 'root'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xm-'));
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${STREAMS * CHANNELS} channels: every stream's tones back, no glitch, no loss`, async () => {
    net = createNetns({ prefix: 'a67xm', hosts: ['a', 'b', 'c'], subnet: SUBNET });
    const streams = Array.from({ length: STREAMS }, (_, k) => ({ destination: `239.69.${SUBNET}.${k + 1}`, frequencyHz: baseHz(k), name: `lab ${k + 1}` }));
    const peers = (host: string, options: object) => {
      const args = ['--import', 'tsx', PEERS, JSON.stringify(options)];
      // SCHED_FIFO 20 (below the DUT's threads) when permitted: the peers sleep between
      // polls, so this takes no more CPU, it only stops a busy host from delaying them.
      const child = chrtWorks ? net!.spawn(host, 'chrt', ['-f', '20', process.execPath, ...args], { cwd: projectRoot }) : net!.spawn(host, process.execPath, args, { cwd: projectRoot });
      return { child, out: collect(child) };
    };
    // The senders (and receivers) are spread over PROCESSES processes: one Node loop for
    // 16 000 packets/s fell seconds behind on this host, and a busy host shares CPU per process.
    const groups = Array.from({ length: PROCESSES }, (_, p) => streams.filter((_s, k) => k % PROCESSES === p)).filter((g) => g.length > 0);
    const senders = groups.map((g) => peers('a', { mode: 'send', interface: 'eth0', seconds: 120, channels: CHANNELS, framesPerPacket: 48, levelDbfs: -12, channelStepHz: STEP_HZ, streams: g }));
    const t0 = Date.now();
    while (!senders.every((x) => x.out.stdout.includes('\n')) && Date.now() - t0 < 60_000) await sleep(100);
    const sdpOf = new Map<string, string>();
    groups.forEach((g, p) => {
      const { sdps: printed } = JSON.parse(senders[p].out.stdout.split('\n')[0] || '{}') as { sdps?: string[] };
      expect(printed?.length, `sender process ${p + 1} printed its SDPs:\n${senders[p].out.stderr}`).toBe(g.length);
      g.forEach((x, i) => sdpOf.set(x.name, printed![i]));
    });
    const sdps = streams.map((x) => sdpOf.get(x.name)!);

    const channelsOf = (k: number) => Array.from({ length: CHANNELS }, (_, c) => k * CHANNELS + c + 1);
    const config = {
      interface: 'eth0',
      device: { inputChannels: STREAMS * CHANNELS, outputChannels: STREAMS * CHANNELS, ioBufferFrames: 64, linkOffsetFrames: 4800 },
      rx: sdps!.map((sdp, k) => ({ id: `rx${k + 1}`, sdp, timing: 'sender', channels: channelsOf(k) })),
      tx: streams.map((_, k) => ({ id: `tx${k + 1}`, name: `DUT ${k + 1}`, destination: `239.69.${SUBNET + 1}.${k + 1}:5004`, ptimeUs: 1000, channelMap: channelsOf(k), announce: false })),
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(net.spawn('b', DUT_BINARY, ['--config', file]));
    const txSdps = await Promise.all(streams.map((_, k) => dut!.client.sdp(`tx${k + 1}`)));
    // Warm-up, not judged: until every RX receives ~1000 packets/s and no playout glitch is
    // added for a whole second (the lab's senders start under tsx and may skip ahead once).
    const glitchSum = (x: DutStatusJson) => x.streams.rx.reduce((a, r) => a + r.playout.glitches, 0);
    const warmStart = Date.now();
    let steady = false;
    while (!steady && Date.now() - warmStart < 30_000) {
      const a = await dut.client.status();
      await sleep(1_000);
      const b = await dut.client.status();
      steady = glitchSum(a) === glitchSum(b) && b.streams.rx.every((r, i) => (r.counters.received as number) - (a.streams.rx[i].counters.received as number) > 900);
    }
    const warmUpS = (Date.now() - warmStart) / 1e3;

    const expectHz = (k: number) => Array.from({ length: CHANNELS }, (_c, c) => baseHz(k) + STEP_HZ * c);
    const receivers = groups.map((g) => {
      const ks = g.map((x) => streams.indexOf(x));
      return { ks, ...peers('c', { mode: 'receive', interface: 'eth0', seconds: RECEIVE_S, sdps: ks.map((k) => txSdps[k]), expectHz: ks.map(expectHz) }) };
    });
    // The DUT's counters over the receivers' window (the senders' warm-up before it is not judged).
    const t1 = Date.now();
    while (!receivers.every((r) => r.out.stderr.includes('receiving')) && Date.now() - t1 < 60_000) await sleep(50);
    const before = await dut.client.status();
    // Sampled through the window, so a failure says when it happened.
    const timeline: string[] = [];
    for (let i = 0; i < RECEIVE_S * 2; i++) {
      await sleep(500);
      const x = await dut.client.status();
      const r = x.streams.rx[0];
      const txLate = Math.max(...x.streams.tx.map((t) => t.counters.latenessMaxNs as number)) / 1e6;
      timeline.push(`${x.uptimeS.toFixed(1)}s rx glitches ${x.streams.rx.map((q) => q.playout.glitches).join('/')}, rx1 missing ${r.playout.framesMissing}; ` +
        `device IO lateness max ${((x.device.counters.maxLatenessNs ?? 0) / 1e6).toFixed(1)} ms, discontinuities in ${x.device.counters.inputDiscontinuities} out ${x.device.counters.outputDiscontinuities}; tx lateness max ${txLate.toFixed(1)} ms`);
    }
    const status = await dut.client.status();
    const timer = setTimeout(() => receivers.forEach((r) => r.child.kill('SIGKILL')), 240_000);
    const codes = await Promise.all(receivers.map((r) => r.out.exited));
    clearTimeout(timer);
    expect(await dut.stop()).toBe(0);
    senders.forEach((x) => x.child.kill('SIGTERM'));
    await Promise.all(senders.map((x) => x.out.exited));
    const senderStats = senders.flatMap((x) => (JSON.parse(x.out.stdout.trim().split('\n').pop() || '{}') as { stats?: Array<{ packets: number; maxLatenessNs: number; meanLatenessNs: number; skipped: number }> }).stats ?? []);
    codes.forEach((code, p) => expect(code, receivers[p].out.stderr).toBe(0));
    const results: StreamResult[] = new Array(STREAMS);
    for (const r of receivers) {
      const out = JSON.parse(r.out.stdout.trim().split('\n').pop()!) as { streams: StreamResult[] };
      r.ks.forEach((k, i) => (results[k] = out.streams[i]));
    }
    const result = { streams: results };

    const sum = (r: (typeof status.streams.rx)[number]) => Object.values(r.counters.dropped as Record<string, number>).reduce((a, b) => a + b, 0);
    const rxFigures = status.streams.rx.map((r, i) => {
      const b = before.streams.rx[i];
      return { id: r.id, received: (r.counters.received as number) - (b.counters.received as number), lost: (r.counters.lost as number) - (b.counters.lost as number),
        dropped: sum(r) - sum(b), glitches: r.playout.glitches - b.playout.glitches, late: r.playout.latePackets - b.playout.latePackets,
        missing: r.playout.framesMissing - b.playout.framesMissing };
    });
    const txFigures = status.streams.tx.map((t) => ({ id: t.id, sent: t.counters.packetsSent as number, latenessMaxMs: (t.counters.latenessMaxNs as number) / 1e6 }));
    const bad = result.streams.flatMap((s, k) =>
      s.channels.flatMap((c, ch) => (Math.abs(c.frequencyHz - (baseHz(k) + STEP_HZ * ch)) >= 0.5 || c.glitches > 0 || c.seconds < RECEIVE_S - 2 ? [`stream ${k + 1} ch ${ch + 1}: ${c.frequencyHz.toFixed(2)} Hz, ${c.glitches} glitches, ${c.seconds.toFixed(2)} s`] : [])),
    );
    console.log(
      `${STREAMS} x ${CHANNELS} ch (${groups.length} sender and receiver processes): lab senders sent ${senderStats.map((x) => x.packets).join('/')} packets, lateness mean ${(Math.max(...senderStats.map((x) => x.meanLatenessNs)) / 1e6).toFixed(2)} ms, ` +
        `max ${(Math.max(...senderStats.map((x) => x.maxLatenessNs)) / 1e6).toFixed(1)} ms, skipped ${senderStats.reduce((a, x) => a + x.skipped, 0)}; DUT uptime ${status.uptimeS.toFixed(1)} s, steady after ${warmUpS.toFixed(1)} s (${steady ? 'yes' : 'NOT steady'}); in the receivers' window: DUT rx received ${rxFigures.map((r) => r.received).join('/')}, lost ${rxFigures.reduce((a, r) => a + r.lost, 0)}, dropped ${rxFigures.reduce((a, r) => a + r.dropped, 0)}, ` +
        `playout glitches ${rxFigures.reduce((a, r) => a + r.glitches, 0)}, frames missing ${rxFigures.reduce((a, r) => a + r.missing, 0)}, late ${rxFigures.reduce((a, r) => a + r.late, 0)}; tx sent ${txFigures.map((t) => t.sent).join('/')}, ` +
        `tx lateness max ${Math.max(...txFigures.map((t) => t.latenessMaxMs)).toFixed(2)} ms; device ${JSON.stringify(status.device.counters)}; lab receivers: packets ${result.streams.map((s) => s.packets).join('/')}, ` +
        `lost ${result.streams.reduce((a, s) => a + s.lost, 0)}, missing frames ${result.streams.reduce((a, s) => a + s.missingFrames, 0)}, jitter max ${Math.max(...result.streams.map((s) => s.jitterMaxNs / 1e6)).toFixed(2)} ms; ` +
        `channels not clean: ${bad.length}${bad.length ? ` (${bad.slice(0, 8).join('; ')})` : ''}\nDUT during the window:\n${timeline.join('\n')}`,
    );
    expect(result.streams).toHaveLength(STREAMS);
    for (const [k, s] of result.streams.entries()) {
      expect(s.state, `lab receiver ${k + 1}: ${s.error ?? ''}`).toBe('receiving');
      expect(s.channels).toHaveLength(CHANNELS);
      expect(s.lost, `stream ${k + 1}: lost on the way back`).toBe(0);
      expect(s.missingFrames, `stream ${k + 1}: frames missing`).toBe(0);
    }
    for (const r of rxFigures) {
      expect(r.dropped, `DUT ${r.id}: dropped`).toBe(0);
      expect(r.lost, `DUT ${r.id}: lost`).toBe(0);
      expect(r.glitches, `DUT ${r.id}: playout glitches`).toBe(0);
    }
    expect(bad, 'every channel at its frequency, continuous').toEqual([]);
  }, 400_000);
});
