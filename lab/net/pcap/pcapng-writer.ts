// pcapng writer (draft-ietf-opsawg-pcapng): one section, interfaces with nanosecond
// resolution (if_tsresol = 9), enhanced packet blocks with optional comments. Streams to a
// file descriptor block by block, so memory stays bounded whatever the capture length.
import { closeSync, openSync, writeSync } from 'node:fs';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;

export interface PcapngInterface {
  linkType: number;
  snapLength?: number;
  name?: string;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Options encoded little-endian (this writer's byte order), terminated by opt_endofopt. */
function encodeOptions(options: { code: number; value: Uint8Array }[]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const size = options.reduce((n, o) => n + 4 + pad4(o.value.length), 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const o of options) {
    view.setUint16(off, o.code, true);
    view.setUint16(off + 2, o.value.length, true);
    out.set(o.value, off + 4);
    off += 4 + pad4(o.value.length);
  }
  view.setUint16(off, OPT_ENDOFOPT, true);
  return out;
}

function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + pad4(body.length);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  out.set(body, 8);
  view.setUint32(total - 4, total, true);
  return out;
}

export class PcapngWriter {
  private readonly fd: number;
  private interfaces = 0;
  private closed = false;
  private readonly text = new TextEncoder();

  constructor(path: string, application = 'aes67-lab') {
    this.fd = openSync(path, 'w');
    const opts = encodeOptions([{ code: OPT_SHB_USERAPPL, value: this.text.encode(application) }]);
    const body = new Uint8Array(16 + opts.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, 0x1a2b3c4d, true); // byte-order magic
    view.setUint16(4, 1, true);
    view.setUint16(6, 0, true);
    view.setBigInt64(8, -1n, true); // section length not given
    body.set(opts, 16);
    this.write(block(BLOCK_SHB, body));
  }

  /** Adds an interface and returns its id for writePacket. */
  addInterface(i: PcapngInterface): number {
    const options = [{ code: OPT_IF_TSRESOL, value: Uint8Array.of(9) }];
    if (i.name) options.unshift({ code: OPT_IF_NAME, value: this.text.encode(i.name) });
    const opts = encodeOptions(options);
    const body = new Uint8Array(8 + opts.length);
    const view = new DataView(body.buffer);
    view.setUint16(0, i.linkType, true);
    view.setUint32(4, i.snapLength ?? 262144, true);
    body.set(opts, 8);
    this.write(block(BLOCK_IDB, body));
    return this.interfaces++;
  }

  /** Writes one packet; `timestampNs` is nanoseconds since the Unix epoch. */
  writePacket(interfaceId: number, timestampNs: bigint, data: Uint8Array, comment?: string, originalLength = data.length): void {
    if (interfaceId < 0 || interfaceId >= this.interfaces) throw new RangeError(`pcapng: no interface ${interfaceId}`);
    const opts = comment ? encodeOptions([{ code: OPT_COMMENT, value: this.text.encode(comment) }]) : new Uint8Array(0);
    const body = new Uint8Array(20 + pad4(data.length) + opts.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, interfaceId, true);
    view.setUint32(4, Number(timestampNs >> 32n), true);
    view.setUint32(8, Number(timestampNs & 0xffffffffn), true);
    view.setUint32(12, data.length, true);
    view.setUint32(16, originalLength, true);
    body.set(data, 20);
    body.set(opts, 20 + pad4(data.length));
    this.write(block(BLOCK_EPB, body));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('pcapng writer is closed');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }
}
