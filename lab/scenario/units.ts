// Quantities as people write them in scenario files: "30s", "150us", "0.5%", "997Hz",
// "-20dBFS", "48kHz". Each parser returns the value in one base unit or throws a message
// that says what was expected; the loader adds the file, line and key.

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, min: 60e9, h: 3600e9 };

/** "30s", "1.5ms", "125us", "2h" -> nanoseconds. A bare number is refused (150 what?), except 0. */
export function parseDuration(text: string | number): number {
  if (text === 0) return 0;
  if (typeof text === 'number') throw new Error(`${text} has no unit: write e.g. ${text}ms or ${text}s`);
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|min|h)\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a duration: write a number with ns, us, ms, s, min or h (e.g. 150us, 30s)`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
}

/** "0.5%" -> 0.005; a plain number is a fraction already (0.005). */
export function parsePercent(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a percentage: write e.g. 0.5%`);
  return Number(m[1]) / 100;
}

/** "997Hz", "1kHz", "48kHz", 48000 -> hertz. */
export function parseFrequency(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(Hz|kHz)\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a frequency: write e.g. 997Hz or 48kHz`);
  return Number(m[1]) * (m[2].toLowerCase() === 'khz' ? 1000 : 1);
}

/** "-20dBFS" -> -20 (dB relative to full scale). */
export function parseLevel(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*dBFS\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a level: write e.g. -20dBFS`);
  return Number(m[1]);
}

/** "100ppm", "-50ppm", 100 -> parts per million. */
export function parsePpm(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*ppm\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a frequency offset: write e.g. 100ppm or -50ppm`);
  return Number(m[1]);
}
