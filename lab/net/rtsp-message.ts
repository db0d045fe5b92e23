// RTSP/1.0 messages (RFC 2326 §4-§7): requests and responses with headers and a
// Content-Length body, parsed incrementally from a byte stream. Limits keep a bad peer
// from growing memory: a header block over 16 KiB or a body over 64 KiB is an error.
export type RtspMessage =
  | { kind: 'request'; method: string; url: string; version: string; headers: Map<string, string>; body: string }
  | { kind: 'response'; version: string; status: number; reason: string; headers: Map<string, string>; body: string };

export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 64 * 1024;

export class RtspParseError extends Error {
  constructor(
    readonly reason: 'header-too-long' | 'body-too-long' | 'bad-start-line' | 'bad-header' | 'bad-content-length',
    detail: string,
  ) {
    super(`RTSP ${reason}: ${detail}`);
    this.name = 'RtspParseError';
  }
}

/** Feeds bytes in, takes whole messages out. After an error the parser stays broken (close the connection). */
export class RtspParser {
  private buffer = Buffer.alloc(0);

  push(bytes: Uint8Array): RtspMessage[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buffer, bytes]);
    const out: RtspMessage[] = [];
    for (;;) {
      // Blank lines between messages are allowed (RFC 2326 §4 via RFC 2616 §4.1).
      let start = 0;
      for (;;) {
        if (this.buffer[start] === 0x0a) start += 1;
        else if (this.buffer[start] === 0x0d && this.buffer[start + 1] === 0x0a) start += 2;
        else break;
      }
      if (start > 0) this.buffer = this.buffer.subarray(start);
      const end = findHeaderEnd(this.buffer);
      if (end < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) throw new RtspParseError('header-too-long', `no end of headers in ${this.buffer.length} bytes`);
        return out;
      }
      if (end > MAX_HEADER_BYTES) throw new RtspParseError('header-too-long', `${end} bytes of headers`);
      const head = this.buffer.subarray(0, end).toString('utf8');
      const lines = head.split(/\r?\n/);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        if (line === '') continue;
        const colon = line.indexOf(':');
        if (colon <= 0) throw new RtspParseError('bad-header', `"${line.slice(0, 60)}" has no name: value`);
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const lengthText = headers.get('content-length') ?? '0';
      if (!/^\d+$/.test(lengthText)) throw new RtspParseError('bad-content-length', `"${lengthText}"`);
      const length = Number(lengthText);
      if (length > MAX_BODY_BYTES) throw new RtspParseError('body-too-long', `Content-Length ${length} over ${MAX_BODY_BYTES}`);
      const bodyStart = end + headerTerminatorLength(this.buffer, end);
      if (this.buffer.length < bodyStart + length) return out;
      const body = this.buffer.subarray(bodyStart, bodyStart + length).toString('utf8');
      this.buffer = this.buffer.subarray(bodyStart + length);
      out.push(parseStartLine(lines[0], headers, body));
    }
  }
}

/** Where the header block's last line ends: the first empty line, whatever mix of CRLF and LF ends the lines. */
function findHeaderEnd(b: Buffer): number {
  for (let p = b.indexOf(0x0a); p >= 0; p = b.indexOf(0x0a, p + 1)) {
    if (b[p + 1] === 0x0a || (b[p + 1] === 0x0d && b[p + 2] === 0x0a)) return b[p - 1] === 0x0d ? p - 1 : p;
  }
  return -1;
}

/** Bytes from the end of the last header line through the empty line. */
function headerTerminatorLength(b: Buffer, end: number): number {
  const eol = b[end] === 0x0d ? 2 : 1;
  return eol + (b[end + eol] === 0x0d ? 2 : 1);
}

function parseStartLine(line: string, headers: Map<string, string>, body: string): RtspMessage {
  let m = /^(RTSP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(line);
  if (m) return { kind: 'response', version: m[1], status: Number(m[2]), reason: m[3] ?? '', headers, body };
  m = /^([A-Z_]+) (\S+) (RTSP\/\d\.\d)$/.exec(line);
  if (m) return { kind: 'request', method: m[1], url: m[2], version: m[3], headers, body };
  throw new RtspParseError('bad-start-line', `"${line.slice(0, 80)}" is neither "METHOD url RTSP/1.0" nor "RTSP/1.0 code reason"`);
}

function headerLines(headers: [string, string | number][], body: string): string {
  const all = [...headers];
  if (body.length > 0) all.push(['Content-Length', Buffer.byteLength(body, 'utf8')]);
  return all.map(([k, v]) => `${k}: ${v}\r\n`).join('');
}

export function formatRequest(method: string, url: string, headers: [string, string | number][], body = ''): string {
  return `${method} ${url} RTSP/1.0\r\n${headerLines(headers, body)}\r\n${body}`;
}

export function formatResponse(status: number, reason: string, headers: [string, string | number][], body = ''): string {
  return `RTSP/1.0 ${status} ${reason}\r\n${headerLines(headers, body)}\r\n${body}`;
}

/** RAVENNA's DESCRIBE URL for a session (FIELD-NOTES "RAVENNA": /by-name/<url-encoded name>). */
export function ravennaSessionUrl(host: string, port: number, sessionName: string): string {
  return `rtsp://${host}:${port}/by-name/${encodeURIComponent(sessionName)}`;
}

export interface RtspUrl {
  host: string;
  port: number;
  path: string;
}

export function parseRtspUrl(url: string): RtspUrl {
  const m = /^rtsp:\/\/([^/:]+)(?::(\d+))?(\/.*)?$/i.exec(url);
  if (!m) throw new Error(`"${url}" is not an rtsp:// URL (write rtsp://host[:port]/path)`);
  const port = m[2] === undefined ? 554 : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new Error(`"${url}": port ${m[2]} is not 1-65535`);
  return { host: m[1], port, path: m[3] ?? '/' };
}
