// The same stream's SDP as other writers write it (issue 11 items 9 and 10; FIELD-NOTES
// "The reference driver": 0.125 ms ptime parsed wrongly, SDP without a channel count):
// - a=ptime exactly as given ("0.125", "0.12", "0.250", "0.333", "0.33"): the value a
//   writer that rounds to two decimals, or pads to three, puts there;
// - a=rtpmap without the channel count ("L24/48000"), which RFC 3551 §4.5 reads as one
//   channel.
// Only the named lines change; everything else stays as the sender wrote it.
import type { SenderSpec } from './schema.ts';

export function writtenAs(sdp: string, how: SenderSpec['sdp']): string {
  if (!how) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const seen = { ptime: false, rtpmap: false };
  const lines = sdp.split(eol).map((line) => {
    if (how.ptime !== undefined && line.startsWith('a=ptime:')) {
      seen.ptime = true;
      return `a=ptime:${how.ptime}`;
    }
    const m = /^a=rtpmap:(\d+) ([A-Za-z0-9]+)\/(\d+)\/1$/.exec(line);
    if (how.rtpmapChannels === false && m) {
      seen.rtpmap = true;
      return `a=rtpmap:${m[1]} ${m[2]}/${m[3]}`;
    }
    return line;
  });
  if (how.ptime !== undefined && !seen.ptime) throw new Error('sdp.ptime: the sender wrote no a=ptime line to rewrite');
  if (how.rtpmapChannels === false && !seen.rtpmap) throw new Error('sdp.rtpmapChannels: the sender wrote no one-channel a=rtpmap line to rewrite');
  return lines.join(eol);
}
