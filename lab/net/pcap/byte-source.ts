// A forward-only window over a file: reads in chunks so a capture of any size is never
// held in memory. A block larger than `maxBlockBytes` is an error, not an allocation.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class CaptureFormatError extends Error {
  constructor(
    message: string,
    /** Byte offset in the file where the problem is. */
    readonly offset: number,
    readonly file = '',
  ) {
    super(`${file ? `${file}: ` : ''}${message} (at byte offset ${offset})`);
    this.name = 'CaptureFormatError';
  }
}

export class ByteSource {
  private readonly fd: number;
  readonly size: number;
  buf: Uint8Array;
  view: DataView;
  /** File offset of buf[0]. */
  private base = 0;
  /** Valid bytes in buf. */
  private filled = 0;

  constructor(
    readonly path: string,
    private readonly chunkBytes = 1 << 20,
    readonly maxBlockBytes = 64 << 20,
  ) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
    this.buf = new Uint8Array(chunkBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /**
   * Makes bytes [offset, offset + length) available in `buf` and returns their index in it;
   * returns -1 when the file ends before offset + length. Offsets only move forward.
   */
  ensure(offset: number, length: number): number {
    if (offset >= this.base && offset + length <= this.base + this.filled) return offset - this.base;
    if (offset + length > this.size) return -1;
    if (length > this.maxBlockBytes) throw new CaptureFormatError(`block of ${length} bytes exceeds the ${this.maxBlockBytes}-byte limit`, offset, this.path);
    if (length > this.buf.length) {
      this.buf = new Uint8Array(Math.max(length, this.chunkBytes));
      this.view = new DataView(this.buf.buffer);
      this.filled = 0;
    }
    // Keep whatever is still ahead of `offset`, then fill the rest from the file.
    const keepFrom = offset - this.base;
    if (keepFrom >= 0 && keepFrom < this.filled) {
      this.buf.copyWithin(0, keepFrom, this.filled);
      this.filled -= keepFrom;
    } else {
      this.filled = 0;
    }
    this.base = offset;
    while (this.filled < this.buf.length && this.base + this.filled < this.size) {
      const n = readSync(this.fd, this.buf, this.filled, this.buf.length - this.filled, this.base + this.filled);
      if (n <= 0) break;
      this.filled += n;
    }
    return this.filled >= length ? 0 : -1;
  }

  /** Bytes of file data held in memory right now. */
  get bufferBytes(): number {
    return this.buf.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
