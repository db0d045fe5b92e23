// Streaming reader for pcap (µs and ns, either byte order) and pcapng (SHB, IDB with
// if_tsresol/if_tsoffset, EPB, SPB, obsolete PB; several interfaces and sections).
// Frames are yielded one at a time; `data` is a view valid until the next frame.
import { ByteSource, CaptureFormatError } from './byte-source.ts';

export { CaptureFormatError };

export interface CapturedFrame {
  /** 1-based frame number, as Wireshark numbers frames. */
  number: number;
  /** File offset of the record or block holding the frame. */
  offset: number;
  interfaceId: number;
  linkType: number;
  /** Whole seconds since the Unix epoch, and nanoseconds within the second. */
  tsSec: number;
  tsNsec: number;
  /** False for pcapng simple packet blocks, which carry no time stamp. */
  hasTimestamp: boolean;
  data: Uint8Array;
  originalLength: number;
  comment?: string;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

interface Interface {
  linkType: number;
  snapLength: number;
  /** Time-stamp units per second. */
  units: number;
  offsetSec: number;
  /** Cache: the last high word seen and the seconds/fraction it stands for. */
  hi: number;
  hiSec: number;
  hiFrac: number;
}

const PCAPNG_SHB = 0x0a0d0d0a;

export class CaptureReader {
  readonly format: CaptureFormat;
  readonly interfaces: { linkType: number; snapLength: number; unitsPerSecond: number }[] = [];
  private readonly src: ByteSource;
  private littleEndian = true;
  private pos = 0;
  private number = 0;
  private ifaces: Interface[] = [];
  private readonly text = new TextDecoder();

  constructor(readonly path: string) {
    this.src = new ByteSource(path);
    if (this.src.size === 0) {
      this.src.close();
      throw new CaptureFormatError('empty file: not a pcap or pcapng capture', 0, path);
    }
    const at = this.src.ensure(0, 4);
    if (at < 0) {
      this.src.close();
      throw new CaptureFormatError(`file of ${this.src.size} bytes is too short for a capture header`, 0, path);
    }
    const magicBe = this.src.view.getUint32(0, false);
    if (magicBe === PCAPNG_SHB) {
      this.format = 'pcapng';
    } else {
      const fmt = this.pcapMagic(magicBe);
      if (!fmt) {
        this.src.close();
        throw new CaptureFormatError(`unknown magic 0x${magicBe.toString(16).padStart(8, '0')}: not a pcap or pcapng capture`, 0, path);
      }
      this.format = fmt;
      this.readPcapHeader();
    }
  }

  private pcapMagic(magicBe: number): CaptureFormat | undefined {
    const table: Record<number, [CaptureFormat, boolean]> = {
      0xa1b2c3d4: ['pcap', false],
      0xd4c3b2a1: ['pcap', true],
      0xa1b23c4d: ['pcap-ns', false],
      0x4d3cb2a1: ['pcap-ns', true],
    };
    const hit = table[magicBe];
    if (!hit) return undefined;
    this.littleEndian = hit[1];
    return hit[0];
  }

  private readPcapHeader(): void {
    const at = this.src.ensure(0, 24);
    if (at < 0) this.fail('truncated pcap file header (needs 24 bytes)', 0);
    const v = this.src.view;
    const le = this.littleEndian;
    const major = v.getUint16(4, le);
    if (major !== 2) this.fail(`pcap version ${major}.${v.getUint16(6, le)} is not 2.x`, 4);
    const snapLength = v.getUint32(16, le);
    // The upper bits of the link-type word carry FCS information (pcap spec §4).
    const linkType = v.getUint32(20, le) & 0x0fffffff;
    this.addInterface(linkType, snapLength, this.format === 'pcap-ns' ? 1e9 : 1e6, 0);
    this.pos = 24;
  }

  private addInterface(linkType: number, snapLength: number, units: number, offsetSec: number): void {
    this.ifaces.push({ linkType, snapLength, units, offsetSec, hi: -1, hiSec: 0, hiFrac: 0 });
    this.interfaces.push({ linkType, snapLength, unitsPerSecond: units });
  }

  private fail(message: string, offset: number): never {
    throw new CaptureFormatError(message, offset, this.path);
  }

  /** Next frame, or undefined at the end of the file. Throws CaptureFormatError on damage. */
  next(): CapturedFrame | undefined {
    return this.format === 'pcapng' ? this.nextPcapng() : this.nextPcap();
  }

  *[Symbol.iterator](): Generator<CapturedFrame> {
    try {
      for (let f = this.next(); f; f = this.next()) yield f;
    } finally {
      this.close();
    }
  }

  close(): void {
    this.src.close();
  }

  /** Bytes of the file held in memory (the read window), whatever the file's size. */
  get bufferBytes(): number {
    return this.src.bufferBytes;
  }

  private nextPcap(): CapturedFrame | undefined {
    const offset = this.pos;
    if (offset === this.src.size) return undefined;
    let at = this.src.ensure(offset, 16);
    if (at < 0) this.fail(`truncated record header: ${this.src.size - offset} of 16 bytes`, offset);
    const v = this.src.view;
    const le = this.littleEndian;
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const capLen = v.getUint32(at + 8, le);
    const origLen = v.getUint32(at + 12, le);
    const iface = this.ifaces[0];
    if (frac >= iface.units) this.fail(`time stamp fraction ${frac} is not below ${iface.units}`, offset + 4);
    if (capLen > Math.max(iface.snapLength, 262144)) this.fail(`record length ${capLen} exceeds the snapshot length ${iface.snapLength}`, offset + 8);
    at = this.src.ensure(offset + 16, capLen);
    if (at < 0) this.fail(`truncated packet: record says ${capLen} bytes, ${this.src.size - offset - 16} remain`, offset);
    this.pos = offset + 16 + capLen;
    return {
      number: ++this.number,
      offset,
      interfaceId: 0,
      linkType: iface.linkType,
      tsSec: sec,
      tsNsec: iface.units === 1e9 ? frac : frac * 1000,
      hasTimestamp: true,
      data: this.src.buf.subarray(at, at + capLen),
      originalLength: origLen,
    };
  }

  private nextPcapng(): CapturedFrame | undefined {
    for (;;) {
      const offset = this.pos;
      if (offset === this.src.size) return undefined;
      let at = this.src.ensure(offset, 12);
      if (at < 0) this.fail(`truncated block header: ${this.src.size - offset} of 12 bytes`, offset);
      const v = this.src.view;
      const type = v.getUint32(at, this.littleEndian);
      if (type === PCAPNG_SHB) {
        const bom = v.getUint32(at + 8, false);
        if (bom === 0x1a2b3c4d) this.littleEndian = false;
        else if (bom === 0x4d3c2b1a) this.littleEndian = true;
        else this.fail(`section header byte-order magic 0x${bom.toString(16)} is invalid`, offset + 8);
        this.ifaces = []; // interfaces are per section
      }
      const le = this.littleEndian;
      const total = v.getUint32(at + 4, le);
      if (total < 12 || total % 4 !== 0) this.fail(`block length ${total} is not a multiple of 4 of at least 12`, offset + 4);
      at = this.src.ensure(offset, total);
      if (at < 0) this.fail(`truncated block: length ${total}, ${this.src.size - offset} bytes remain`, offset);
      const vv = this.src.view;
      if (vv.getUint32(at + total - 4, le) !== total) this.fail(`block trailer length differs from header length ${total}`, offset + total - 4);
      this.pos = offset + total;
      const body = at + 8;
      const bodyLen = total - 12;
      switch (type) {
        case 1:
          this.readIdb(body, bodyLen, offset);
          break;
        case 6:
          return this.readEpb(body, bodyLen, offset);
        case 3:
          return this.readSpb(body, bodyLen, offset);
        case 2:
          return this.readObsoletePb(body, bodyLen, offset);
        default:
          break; // SHB handled above; NRB, ISB, DSB, custom blocks carry no packets
      }
    }
  }

  private readIdb(body: number, len: number, offset: number): void {
    if (len < 8) this.fail('interface description block too short', offset);
    const v = this.src.view;
    const le = this.littleEndian;
    let units = 1e6;
    let offsetSec = 0;
    this.forOptions(body + 8, body + len, offset, (code, at, olen) => {
      if (code === 9 && olen >= 1) {
        const r = this.src.buf[at];
        units = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      } else if (code === 14 && olen >= 8) {
        offsetSec = Number(v.getBigInt64(at, le));
      }
    });
    this.addInterface(v.getUint16(body, le), v.getUint32(body + 4, le), units, offsetSec);
  }

  private forOptions(from: number, to: number, blockOffset: number, fn: (code: number, at: number, len: number) => void): void {
    const v = this.src.view;
    const le = this.littleEndian;
    let p = from;
    while (p + 4 <= to) {
      const code = v.getUint16(p, le);
      const len = v.getUint16(p + 2, le);
      if (code === 0) return;
      if (p + 4 + len > to) this.fail(`option ${code} of ${len} bytes runs past its block`, blockOffset);
      fn(code, p + 4, len);
      p += 4 + ((len + 3) & ~3);
    }
  }

  private iface(id: number, offset: number): Interface {
    const i = this.ifaces[id];
    if (!i) this.fail(`packet refers to interface ${id}, but the section has ${this.ifaces.length}`, offset);
    return i;
  }

  private time(i: Interface, hi: number, lo: number): [number, number] {
    if (i.hi !== hi) {
      // Exact split of hi·2^32 into seconds and units, once per high word (BigInt is slow).
      const units = BigInt(i.units);
      const base = BigInt(hi) << 32n;
      i.hi = hi;
      i.hiSec = Number(base / units);
      i.hiFrac = Number(base % units);
    }
    const f = i.hiFrac + lo; // < 2^33: exact
    const carry = Math.floor(f / i.units);
    const frac = f - carry * i.units;
    const nsec = i.units === 1e9 ? frac : Math.floor((frac * 1e9) / i.units);
    return [i.hiSec + carry + i.offsetSec, nsec];
  }

  private readEpb(body: number, len: number, offset: number): CapturedFrame {
    if (len < 20) this.fail('enhanced packet block too short', offset);
    const v = this.src.view;
    const le = this.littleEndian;
    const id = v.getUint32(body, le);
    const i = this.iface(id, offset + 8);
    const capLen = v.getUint32(body + 12, le);
    if (20 + capLen > len) this.fail(`captured length ${capLen} runs past the block`, offset + 20);
    const [tsSec, tsNsec] = this.time(i, v.getUint32(body + 4, le), v.getUint32(body + 8, le));
    let comment: string | undefined;
    this.forOptions(body + 20 + ((capLen + 3) & ~3), body + len, offset, (code, at, olen) => {
      if (code === 1) comment = this.text.decode(this.src.buf.subarray(at, at + olen));
    });
    const frame: CapturedFrame = {
      number: ++this.number,
      offset,
      interfaceId: id,
      linkType: i.linkType,
      tsSec,
      tsNsec,
      hasTimestamp: true,
      data: this.src.buf.subarray(body + 20, body + 20 + capLen),
      originalLength: v.getUint32(body + 16, le),
    };
    if (comment !== undefined) frame.comment = comment;
    return frame;
  }

  private readSpb(body: number, len: number, offset: number): CapturedFrame {
    if (len < 4) this.fail('simple packet block too short', offset);
    const i = this.iface(0, offset);
    const origLen = this.src.view.getUint32(body, this.littleEndian);
    const capLen = Math.min(origLen, len - 4, i.snapLength || origLen);
    return {
      number: ++this.number,
      offset,
      interfaceId: 0,
      linkType: i.linkType,
      tsSec: 0,
      tsNsec: 0,
      hasTimestamp: false,
      data: this.src.buf.subarray(body + 4, body + 4 + capLen),
      originalLength: origLen,
    };
  }

  private readObsoletePb(body: number, len: number, offset: number): CapturedFrame {
    if (len < 20) this.fail('packet block too short', offset);
    const v = this.src.view;
    const le = this.littleEndian;
    const id = v.getUint16(body, le);
    const i = this.iface(id, offset + 8);
    const capLen = v.getUint32(body + 12, le);
    if (20 + capLen > len) this.fail(`captured length ${capLen} runs past the block`, offset + 20);
    const [tsSec, tsNsec] = this.time(i, v.getUint32(body + 4, le), v.getUint32(body + 8, le));
    return { number: ++this.number, offset, interfaceId: id, linkType: i.linkType, tsSec, tsNsec, hasTimestamp: true, data: this.src.buf.subarray(body + 20, body + 20 + capLen), originalLength: v.getUint32(body + 16, le) };
  }
}

export function openCapture(path: string): CaptureReader {
  return new CaptureReader(path);
}
