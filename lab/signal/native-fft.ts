// fft.ts's fft in C++ (native/src/radix2_fft.cc): the same transform to the bit, twice the
// speed or so. The measurement's fast way correlates its latency probe with it; the
// reference way and every other caller keep fft.ts's (native-fft.test.ts compares them).
import { loadNative } from '../../native/index.ts';
import type { Transform } from './fft.ts';

/** fft in C++: the same arguments, result and errors. Needs the addon built. */
export const fftNative: Transform = (re, im, inverse = false) => loadNative().fft(re, im, inverse);
