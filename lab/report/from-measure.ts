// Adapters from lab/measure results to report shapes, so the runner does not restate them.
import type { Glitch } from '../measure/glitches.ts';
import type { LatencyAttribution, LatencyMeasurement } from '../measure/latency.ts';
import type { StreamReport } from '../analyze/analyze-capture.ts';
import type { GlitchMark, Histogram, LatencySamples } from './schema.ts';

/**
 * Glitch marks for the timeline. `scenarioStartSample` is the sample time (on the glitches'
 * time line) at which the scenario started, so t is seconds into the scenario.
 */
export function glitchMarks(glitches: Glitch[], sampleRate: number, scenarioStartSample = 0): GlitchMark[] {
  return glitches.map((g) => {
    const m: GlitchMark = {
      t: Math.max(0, (g.sample - scenarioStartSample) / sampleRate),
      sample: g.sample,
      channel: g.channel,
      lengthSamples: Math.max(1, Math.round(g.length)),
      kinds: g.kinds,
    };
    if (g.cause !== undefined) m.cause = g.cause;
    return m;
  });
}

/** Every channel of every measurement as one latency distribution, with the attribution of one of them. */
export function latencySamples(label: string, measurements: LatencyMeasurement[], attribution?: LatencyAttribution): LatencySamples {
  if (measurements.length === 0) throw new Error(`latencySamples '${label}': no measurements`);
  const mode = measurements[0].mode;
  if (measurements.some((m) => m.mode !== mode)) throw new Error(`latencySamples '${label}': round-trip and one-way measurements mixed`);
  const channels = measurements.flatMap((m) => m.channels.map((c) => ({ ...c, rate: m.sampleRate })));
  const out: LatencySamples = {
    label,
    mode,
    unit: 'ms',
    values: channels.map((c) => Number(((c.latencyFractionalSamples * 1000) / c.rate).toFixed(6))),
    confidence: Math.min(...channels.map((c) => (Number.isFinite(c.confidence) ? c.confidence : 1e9))),
  };
  if (attribution) {
    const rate = measurements[0].sampleRate;
    // Rounded to a micro-sample: ns stamps converted to samples carry float noise, and the
    // report should read the same on every machine.
    const r6 = (x: number) => Number(x.toFixed(6));
    out.stages = attribution.stages.map((s) => ({ stage: s.stage, samples: r6(s.samples), ms: r6((s.samples * 1000) / rate) }));
    out.residualSamples = r6(attribution.residualSamples);
  }
  return out;
}

/** A stream's PIT histogram from lab/analyze (analyzeCapture) as a report histogram. */
export function pitHistogramFromAnalysis(stream: Pick<StreamReport, 'index' | 'source' | 'destination' | 'pitHistogram'>, label = `stream ${stream.index} ${stream.source} → ${stream.destination}`): Histogram {
  return { label, binUs: stream.pitHistogram.binUs, bins: stream.pitHistogram.bins.map((b) => ({ fromUs: b.fromUs, count: b.count })) };
}
