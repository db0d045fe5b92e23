// RX + TX cost of 128 channels at 48 kHz, L24: RtpTransmitter (ring pop,
// encode, send) -> network -> RtpReceiver (receive, parse, decode, playout write) ->
// PlayoutBuffer::read, for every stream each packet time. Timed in C++
// (native/src/bench_binding.cc): medians of batches of 100 ms of audio, each followed by
// a memcpy of the same float audio (TX side + RX side) timed the same way. Two networks:
// an in-memory loop that only copies datagrams in and out (the engine's own cost), and the
// lab's VirtualNetwork (what a virtual-time scenario pays per packet). Never fails on a
// figure; only on a broken measurement (lost or misplaced audio).
import { loadNative } from '../native/index.ts';
import { recordBench } from './bench-json.ts';

const native = loadNative();
const RATE = 48_000;
const TARGET_PERCENT = 2;
// 16 x 8 channels at 1 ms is AES67's own shape (1152 payload bytes fit a 1500-byte MTU).
// 64 channels of L24 at 1 ms would be a 9228-byte datagram, past even a 9000-byte jumbo
// MTU, so 2 x 64 runs at 125 us as ST 2110-30 level C does.
const LAYOUTS = [
  { streams: 16, channels: 8, framesPerPacket: 48 },
  { streams: 2, channels: 64, framesPerPacket: 6 },
];
const NETWORKS = ['loop', 'virtual'] as const;

console.log(`128 channels TX + 128 RX, L24 at ${RATE} Hz; medians of 101 batches of 100 ms of audio`);
console.log(
  `${'layout'.padEnd(16)} ${'network'.padEnd(8)} ${'ns/ms'.padStart(8)} ${'tx'.padStart(7)} ${'rx'.padStart(7)} ${'read'.padStart(7)} ` +
    `${'ns/sample'.padStart(10)} ${'memcpy ns/ms'.padStart(13)} ${'ratio'.padStart(7)} ${'% of a core'.padStart(12)}`,
);
const rows = [];
for (const layout of LAYOUTS) {
  for (const network of NETWORKS) {
    // A batch is 100 ms of audio whatever the packet time.
    const packetsPerBatch = Math.round((0.1 * RATE) / layout.framesPerPacket);
    const m = native.measureRxTx({ ...layout, encoding: 'L24', network, batches: 101, packetsPerBatch });
    if (!(m.stepNs > 0 && m.memcpyNs > 0)) throw new Error(`measurement failed: ${JSON.stringify(m)}`);
    const channels = layout.streams * layout.channels;
    const packetNs = (layout.framesPerPacket / RATE) * 1e9;
    // Per millisecond of audio, so the two packet times compare.
    const perMs = (ns: number) => (ns * 1e6) / packetNs;
    // One channel-sample sent and received: the step covers channels x frames of each.
    const nsPerSample = m.stepNs / (channels * layout.framesPerPacket);
    const percent = (m.stepNs / packetNs) * 100;
    const ratio = m.stepNs / m.memcpyNs;
    console.log(
      `${`${layout.streams}x${layout.channels} @ ${(packetNs / 1000).toFixed(0)}us`.padEnd(16)} ${network.padEnd(8)} ${perMs(m.stepNs).toFixed(0).padStart(8)} ` +
        `${perMs(m.txNs).toFixed(0).padStart(7)} ${perMs(m.rxNs).toFixed(0).padStart(7)} ${perMs(m.readNs).toFixed(0).padStart(7)} ${nsPerSample.toFixed(2).padStart(10)} ` +
        `${perMs(m.memcpyNs).toFixed(0).padStart(13)} ${ratio.toFixed(1).padStart(6)}x ${percent.toFixed(3).padStart(11)}%`,
    );
    rows.push({ ...layout, network, ...m, packetNs, nsPerSample, percentOfCore: percent, ratioToMemcpy: ratio, meetsTarget: percent < TARGET_PERCENT });
  }
}
console.log(`target: < ${TARGET_PERCENT}% of one core at real-time rate (the 'loop' rows are the engine's own cost)`);
recordBench('rx-tx', { sampleRate: RATE, encoding: 'L24', targetPercent: TARGET_PERCENT, rows });
