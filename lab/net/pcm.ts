// Linear PCM as AES67 carries it: L16 (RFC 3551), L24 (RFC 3190), L32; big-endian
// two's complement, interleaved by channel.

export type PcmEncoding = 'L16' | 'L24' | 'L32';

export const PCM_ENCODINGS: readonly PcmEncoding[] = ['L16', 'L24', 'L32'];

export function bytesPerSample(encoding: PcmEncoding): number {
  switch (encoding) {
    case 'L16':
      return 2;
    case 'L24':
      return 3;
    case 'L32':
      return 4;
  }
}

function fullScale(encoding: PcmEncoding): number {
  return 2 ** (8 * bytesPerSample(encoding) - 1);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Float samples in [-1, 1) to big-endian integers; values outside clip to the range. */
export function encodePcm(interleaved: Float32Array, encoding: PcmEncoding): Uint8Array {
  const width = bytesPerSample(encoding);
  const scale = fullScale(encoding);
  const max = scale - 1;
  const out = new Uint8Array(interleaved.length * width);
  for (let i = 0, o = 0; i < interleaved.length; i++, o += width) {
    const x = interleaved[i];
    // NaN encodes as silence rather than poisoning the stream; ties round to even, as
    // lrintf and the engine do.
    let v = Number.isNaN(x) ? 0 : roundHalfEven(x * scale);
    if (v > max) v = max;
    else if (v < -scale) v = -scale;
    for (let b = width - 1; b >= 0; b--) {
      out[o + b] = v & 0xff;
      v >>= 8; // arithmetic shift keeps the sign for the upper bytes (fits in 32 bits)
    }
  }
  return out;
}

/** Big-endian integers to float samples in [-1, 1); trailing partial samples are ignored. */
export function decodePcm(bytes: Uint8Array, encoding: PcmEncoding): Float32Array {
  const width = bytesPerSample(encoding);
  const scale = fullScale(encoding);
  const count = Math.floor(bytes.length / width);
  const out = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i++, o += width) {
    let v = 0;
    for (let b = 0; b < width; b++) v = v * 256 + bytes[o + b];
    if (v >= scale) v -= 2 * scale;
    out[i] = v / scale;
  }
  return out;
}
