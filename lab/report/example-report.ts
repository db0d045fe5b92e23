// The example in reports/examples/: a small virtual-time run through the engine's own
// PlayoutBuffer (native addon), measured end to end by lab/measure, so every figure in the
// example is computed, not typed:
//   channel 1 carries a 997 Hz sine, channel 2 an MLS latency probe; 1 ms packets cross a
//   seeded network (base delay, Gaussian jitter, a little loss, one very late packet) into a
//   PlayoutBuffer read every 32 frames at media time now − link offset. The output is checked
//   for glitches (joined with the buffer's own glitch log), latency (correlation, attributed
//   to network and playout buffer from the packets' time stamps), SNR, PIT and fill.
//
//   npx tsx lab/report/example-report.ts [out-dir]   (default reports/examples/playout-loopback)
// It is the pattern the scenario runner follows, in miniature; it is not the runner.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../native/index.ts';
import { detectChannelGlitches, joinGlitchCauses, type EngineGlitchLog } from '../measure/glitches.ts';
import { attributeLatency, measureLatency } from '../measure/latency.ts';
import { mlsSequence } from '../signal/probe.ts';
import { sineQuality } from '../measure/sine-quality.ts';
import { glitchMarks, latencySamples } from './from-measure.ts';
import { judge, scenarioVerdict } from './judge.ts';
import { collectRunMetadata, projectRoot } from './metadata.ts';
import type { ReportInput, ScenarioResultInput } from './schema.ts';

export interface ExampleConfig {
  seed: number;
  sampleRate: number;
  seconds: number;
  framesPerPacket: number;
  ioFrames: number;
  linkOffsetFrames: number;
  baseDelayUs: number;
  jitterSdUs: number;
  lossProbability: number;
  /** Packet index that arrives `lateByUs` after it was due. */
  latePacket: number;
  lateByUs: number;
  probeStart: number;
}

export const EXAMPLE: ExampleConfig = {
  seed: 7,
  sampleRate: 48000,
  seconds: 2,
  framesPerPacket: 48,
  ioFrames: 32,
  linkOffsetFrames: 144,
  baseDelayUs: 1000,
  jitterSdUs: 200,
  lossProbability: 0.004,
  latePacket: 1500,
  lateByUs: 4000,
  probeStart: 4800,
};

interface Packet {
  index: number;
  mediaTime: number;
  sentNs: number;
  arrivalNs: number;
  lost: boolean;
}

export function runExampleScenario(c: ExampleConfig = EXAMPLE): ScenarioResultInput {
  const native = loadNative();
  const prng = new native.Prng(c.seed);
  const nsPerFrame = 1e9 / c.sampleRate;
  const totalFrames = c.seconds * c.sampleRate;
  const probe = Float32Array.from(mlsSequence(13), (v) => v * 0.5);
  const sine = (n: number) => 0.5 * Math.sin((2 * Math.PI * 997 * n) / c.sampleRate);

  // The sender: media time = network time in samples (one PTP time scale for everyone).
  const packets: Packet[] = [];
  for (let i = 0; i * c.framesPerPacket < totalFrames; i++) {
    const mediaTime = i * c.framesPerPacket;
    const sentNs = mediaTime * nsPerFrame;
    const jitterNs = Math.abs(prng.normal()) * c.jitterSdUs * 1000;
    const lost = prng.uniform() < c.lossProbability;
    const extra = i === c.latePacket ? c.lateByUs * 1000 : 0;
    packets.push({ index: i, mediaTime, sentNs, arrivalNs: Math.round(sentNs + c.baseDelayUs * 1000 + jitterNs + extra), lost });
  }
  const arriving = packets.filter((p) => !p.lost).sort((a, b) => a.arrivalNs - b.arrivalNs || a.index - b.index);

  // The device: an IO cycle every ioFrames reads media time now − link offset.
  const buffer = new native.PlayoutBuffer({ channels: 2, linkOffset: c.linkOffsetFrames });
  const out = [new Float32Array(totalFrames), new Float32Array(totalFrames)];
  const fill = { t: [] as number[], values: [] as number[] };
  const late = new Set<number>();
  let next = 0;
  let lowest = Infinity;
  for (let now = 0; now + c.ioFrames <= totalFrames; now += c.ioFrames) {
    const nowNs = now * nsPerFrame;
    for (; next < arriving.length && arriving[next].arrivalNs <= nowNs; next++) {
      const p = arriving[next];
      const frames = new Float32Array(c.framesPerPacket * 2);
      for (let f = 0; f < c.framesPerPacket; f++) {
        const n = p.mediaTime + f;
        frames[2 * f] = sine(n);
        frames[2 * f + 1] = n >= c.probeStart && n < c.probeStart + probe.length ? probe[n - c.probeStart] : 0;
      }
      if (buffer.write(p.mediaTime, frames) === 'late') late.add(p.index);
    }
    const block = buffer.read(now - c.linkOffsetFrames, c.ioFrames);
    for (let f = 0; f < c.ioFrames; f++) {
      out[0][now + f] = block[2 * f];
      out[1][now + f] = block[2 * f + 1];
    }
    // The lowest fill in each 10 ms: the margin left before the reader runs dry.
    lowest = Math.min(lowest, buffer.fillFrames());
    if ((now + c.ioFrames) % 480 === 0) {
      fill.t.push(Number(((now + c.ioFrames) / c.sampleRate).toFixed(6)));
      fill.values.push(lowest);
      lowest = Infinity;
    }
  }
  const stats = buffer.stats();

  // The engine's glitch log, with the cause the sender side knows (lost or late).
  const engineLog: EngineGlitchLog[] = buffer.glitches().map((g) => {
    const hit = packets.filter((p) => p.mediaTime < g.start + g.frames && p.mediaTime + c.framesPerPacket > g.start);
    const cause = hit.some((p) => late.has(p.index)) ? 'late' : hit.some((p) => p.lost) ? 'lost' : 'underrun';
    return { sample: g.start, length: g.frames, cause, detail: `packets ${hit.map((p) => p.index).join(', ')}` };
  });

  // Output index i plays at network sample time i and holds media time i − link offset.
  const firstMedia = -c.linkOffsetFrames;
  const detected = detectChannelGlitches(out[0], c.sampleRate, 0, { captureStartSample: firstMedia });
  const joined = joinGlitchCauses(detected.glitches, engineLog);

  const latency = measureLatency({ mode: 'one-way', sampleRate: c.sampleRate, probe, probeStartSample: c.probeStart, capture: [out[1]], captureStartSample: 0 });
  const probePacket = packets[Math.floor(c.probeStart / c.framesPerPacket)];
  const playNs = (c.probeStart + latency.channels[0].latencySamples) * nsPerFrame;
  const attribution = attributeLatency(
    latency.channels[0].latencySamples,
    [
      { stage: 'network', from: { ns: probePacket.sentNs }, to: { ns: probePacket.arrivalNs } },
      { stage: 'playout-buffer', from: { ns: probePacket.arrivalNs }, to: { ns: playNs } },
    ],
    c.sampleRate,
  );

  // SNR on the longest stretch of the sine without a glitch.
  const edges = [detected.analysedFrom, ...joined.glitches.flatMap((g) => [g.sample - firstMedia - 4, g.sample - firstMedia + g.length + 4]), detected.analysedTo];
  let best = [0, 0];
  for (let i = 0; i + 1 < edges.length; i += 2) if (edges[i + 1] - edges[i] > best[1] - best[0]) best = [edges[i], edges[i + 1]];
  const quality = sineQuality(out[0].subarray(best[0], best[1]), c.sampleRate);

  const pitCounts = new Map<number, number>();
  for (let i = 1; i < arriving.length; i++) {
    const us = (arriving[i].arrivalNs - arriving[i - 1].arrivalNs) / 1000;
    const bin = Math.floor(us / 10) * 10;
    pitCounts.set(bin, (pitCounts.get(bin) ?? 0) + 1);
  }

  const lostPackets = packets.filter((p) => p.lost).length;
  const expectations = [
    judge('latency.oneWay', latency.channels[0].latencyMs, { max: (c.linkOffsetFrames * 1000) / c.sampleRate }, 'ms', 'probe correlation; the link offset is the bound'),
    judge('latency.unattributedSamples', Math.abs(attribution.residualSamples), { max: 0.5 }, 'samples', 'measured minus (network + playout buffer) from packet time stamps'),
    judge('glitches.detectedVsEngine', joined.glitches.length, { equals: engineLog.length }, 'count', 'glitches the detector hears = runs of silence the playout buffer logged'),
    judge('glitches.unexplained', joined.unexplained.length, { equals: 0 }, 'count'),
    judge('sine.snr', Number(quality.snrDb.toFixed(2)), { min: 90 }, 'dB', 'float path: the only noise is arithmetic'),
  ];
  return {
    name: 'example-playout-loopback',
    file: null,
    suite: 'examples',
    description: 'A sine and an MLS probe through the engine PlayoutBuffer over a seeded jittery, lossy virtual network (lab/report/example-report.ts).',
    seed: c.seed,
    clock: 'virtual',
    durationS: c.seconds,
    verdict: scenarioVerdict(expectations),
    expectations,
    playoutFill: [{ label: 'stream 1, lowest fill per 10 ms', unit: 'frames', t: fill.t, values: fill.values }],
    latency: [latencySamples('probe, channel 2', [latency], attribution)],
    pitHistogram: [{ label: 'stream 1', binUs: 10, bins: [...pitCounts].sort((a, b) => a[0] - b[0]).map(([fromUs, count]) => ({ fromUs, count })) }],
    glitches: glitchMarks(joined.glitches, c.sampleRate, 0),
    figures: {
      'rtp.packets': packets.length,
      'rtp.lost': lostPackets,
      'playout.latePackets': stats.latePackets,
      'playout.glitches': stats.glitches,
      'playout.framesMissing': stats.framesMissing,
      'latency.confidence': Number(latency.channels[0].confidence.toFixed(1)),
      'sine.snrDb': Number(quality.snrDb.toFixed(2)),
      'sine.thdnDb': Number(quality.thdnDb.toFixed(2)),
    },
  };
}

export function exampleReport(startedAt = new Date()): ReportInput {
  const scenario = runExampleScenario();
  return { schema: 'aes67-lab/report', schemaVersion: 1, run: collectRunMetadata(startedAt, { command: 'npx tsx lab/report/example-report.ts', finishedAt: new Date() }), scenarios: [scenario] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { writeReport } = await import('./report-file.ts');
  const { renderJunit } = await import('./render-junit.ts');
  const { renderSummary } = await import('./render-summary.ts');
  const { writeFileSync } = await import('node:fs');
  const dir = process.argv[2] ?? path.join(projectRoot, 'reports/examples/playout-loopback');
  const report = writeReport(path.join(dir, 'report.json'), exampleReport());
  // index.html is left out to keep the example small: `aes67-lab report` renders it.
  writeFileSync(path.join(dir, 'junit.xml'), renderJunit(report));
  writeFileSync(path.join(dir, 'summary.md'), renderSummary(report));
  console.log(renderSummary(report));
}
