// Lints an SDP against AES67-2018, RFC 8866 / 7273 / 4570 and what breaks real gear
// (FIELD-NOTES). Each finding has a severity, the clause it rests on and, where it can, a line.
import { describeAes67, SdpError, type Aes67StreamDescription } from './sdp.ts';

export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintFinding {
  severity: LintSeverity;
  clause: string;
  message: string;
  line?: number;
}

/** AES67-2018 §7.2 packet times (µs); 333 stands for 1/3 ms. */
const AES67_PACKET_TIMES_US = [125, 250, 333, 1000, 4000];
const AES67_RATES = [44100, 48000, 96000];
/** FIELD-NOTES "Payload budget" (unverified as a standard figure). */
const PAYLOAD_BUDGET_BYTES = 1440;

export function lintSdp(text: string): LintFinding[] {
  const findings: LintFinding[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const lineOf = (prefix: string) => {
    const i = lines.findIndex((l) => l.startsWith(prefix));
    return i < 0 ? undefined : i + 1;
  };
  const add = (severity: LintSeverity, clause: string, message: string, line?: number) => findings.push(line ? { severity, clause, message, line } : { severity, clause, message });

  let d: Aes67StreamDescription;
  try {
    d = describeAes67(text);
  } catch (e) {
    if (!(e instanceof SdpError)) throw e;
    const clause = e.reason === 'no-ptime' ? 'AES67-2018 §8.1' : e.reason === 'bad-ts-refclk' ? 'RFC 7273 §4.8' : 'RFC 8866 §5';
    add('error', clause, e.message, e.line || undefined);
    return findings;
  }
  if (lines[0] !== 'v=0') add('error', 'RFC 8866 §5.1', 'the first line must be "v=0"', 1);
  if (!lineOf('a=ptime:') && !lineOf('a=framecount:')) add('error', 'AES67-2018 §8.1', 'no "a=ptime:" (AES67 requires it, e.g. "a=ptime:1"); 1 ms was assumed', lineOf('m=audio'));
  if (!lineOf('t=')) add('error', 'RFC 8866 §5.9', 'no "t=" line (use "t=0 0")');
  if (!AES67_PACKET_TIMES_US.includes(d.ptimeUs)) add('warning', 'AES67-2018 §7.2', `packet time ${d.ptimeUs} µs is not one of 125, 250, 333, 1000, 4000 µs`, lineOf('a=ptime:'));
  if (d.encoding === 'L32') add('warning', 'AES67-2018 §7.1', 'L32 is not an AES67 encoding (L16 and L24 are)', lineOf('a=rtpmap:'));
  if (!AES67_RATES.includes(d.sampleRate)) add('warning', 'AES67-2018 §7.1', `${d.sampleRate} Hz: AES67 requires 48 kHz (44.1 and 96 kHz optional)`, lineOf('a=rtpmap:'));
  const first = Number(d.destination.split('.')[0]);
  const multicast = first >= 224 && first <= 239;
  if (multicast && d.ttl === undefined) add('error', 'RFC 8866 §5.7', 'an IPv4 multicast "c=" needs a TTL ("/32")', lineOf('c='));
  if (multicast && first !== 239) add('info', 'RFC 2365', `${d.destination} is outside the administratively scoped 239.0.0.0/8`, lineOf('c='));
  if (!d.ptpRefclk) add('error', 'AES67-2018 §8.2 / RFC 7273 §4.8', 'no "a=ts-refclk:ptp=IEEE1588-2008:<gmid>:<domain>"');
  if (d.mediaclkOffset === undefined) add('error', 'AES67-2018 §8.3 / RFC 7273 §5', 'no "a=mediaclk:direct=<offset>"');
  if (d.maxptimeUs !== undefined && d.maxptimeUs < d.ptimeUs) add('error', 'RFC 4566 §6', `maxptime ${d.maxptimeUs} µs is below ptime ${d.ptimeUs} µs`, lineOf('a=maxptime:'));
  const payload = d.framesPerPacket * d.channels * { L16: 2, L24: 3, L32: 4 }[d.encoding];
  if (payload > PAYLOAD_BUDGET_BYTES) add('warning', 'AES67-2018 §7.3 (MTU)', `${payload}-byte payload exceeds the common ${PAYLOAD_BUDGET_BYTES}-byte budget`);
  if (d.keywords === 'Dante' && d.channels > 8) add('warning', 'FIELD-NOTES Dante', `Dante flows carry at most 8 channels, this one ${d.channels}`);
  const mIndex = lines.findIndex((l) => l.startsWith('m='));
  const sessionFilter = lines.findIndex((l, i) => l.startsWith('a=source-filter') && (mIndex < 0 || i < mIndex));
  if (sessionFilter >= 0) add('warning', 'FIELD-NOTES Dante (aes67-linux-daemon#94)', 'a session-level source-filter hides the source from some receivers: put it in the media section', sessionFilter + 1);
  if (d.direction === undefined) add('info', 'RFC 8866 §6.7', 'no direction attribute (sendonly for a sender, Dante announces recvonly)');
  if (lineOf('a=framecount:')) add('info', 'AES67-2018 §8.1', 'a=framecount is legacy; a=ptime carries the packet time', lineOf('a=framecount:'));
  if (d.sourceFilter === undefined && multicast) add('info', 'RFC 4570', 'no source-filter: receivers join any-source multicast');
  return findings;
}
