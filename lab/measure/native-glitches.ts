// The glitch detector in C++ (native/src/glitch_detector.cc): lab/measure/glitches.ts's
// detectChannelGlitches, the same passes and the same result, about 2.5 times the speed
// (a 10 s, 8-stream scenario's measurement: 150 ms of glitch detection down to 56). The measurement's fast way uses it; its reference way and every other
// caller keep the TypeScript one, which it is checked against (native-glitches.test.ts,
// lab/scenario/measure-fast.test.ts).
import { loadNative } from '../../native/index.ts';
import { glitchSettings, type ChannelGlitches, type GlitchOptions } from './glitches.ts';

/** detectChannelGlitches in C++: the same options, result and errors. Needs the addon built. */
export function detectChannelGlitchesNative(x: Float32Array, sampleRate: number, channel = 0, options: GlitchOptions = {}): ChannelGlitches {
  return loadNative().detectChannelGlitches(x, sampleRate, channel, glitchSettings(sampleRate, options));
}
