import { describe, expect, it } from 'vitest';
import { lintSdp } from './sdp-lint.ts';
import { buildAes67Sdp } from './sdp.ts';

// A clean AES67 SDP, built by the lab (its parse is held to tshark in sdp.test.ts).
const clean = buildAes67Sdp({
  name: 'clean', origin: { username: '-', sessionId: '1', sessionVersion: '1', address: '10.67.20.1' }, destination: '239.69.20.1', port: 5004, ttl: 32,
  sourceFilter: '10.67.20.1', encoding: 'L24', sampleRate: 48000, channels: 2, ptimeUs: 1000, payloadType: 97, ptpRefclk: { gmid: '00-1D-C1-FF-FE-00-00-01', domain: 0 }, mediaclkOffset: 0, direction: 'sendonly',
});

const clauses = (sdp: string) => lintSdp(sdp).map((f) => `${f.severity} ${f.clause}`);

describe('SDP lint', () => {
  it('finds nothing in a clean AES67 SDP', () => {
    expect(lintSdp(clean)).toEqual([]);
  });

  it('names the clause of each rule broken, with the line where there is one', () => {
    expect(clauses(clean.replace(/a=ts-refclk.*\r\n/, ''))).toEqual(['error AES67-2018 §8.2 / RFC 7273 §4.8']);
    expect(clauses(clean.replace(/a=mediaclk.*\r\n/, ''))).toEqual(['error AES67-2018 §8.3 / RFC 7273 §5']);
    expect(clauses(clean.replace('a=ptime:1', 'a=ptime:2'))).toEqual(['warning AES67-2018 §7.2']);
    expect(clauses(clean.replace('239.69.20.1/32', '239.69.20.1'))).toEqual(['error RFC 8866 §5.7']);
    expect(clauses(clean.replace('L24/48000', 'L24/32000'))).toEqual(['warning AES67-2018 §7.1']);
    const noPtime = lintSdp(clean.replace('a=ptime:1\r\n', ''));
    expect(noPtime).toMatchObject([{ severity: 'error', clause: 'AES67-2018 §8.1', line: 6 }]);
    const ptimeLine = clean.split('\r\n').findIndex((l) => l.startsWith('a=ptime')) + 1;
    expect(lintSdp(clean.replace('a=ptime:1', 'a=ptime:3'))[0].line).toBe(ptimeLine);
    const sessionFilter = clean.replace('t=0 0\r\n', 't=0 0\r\na=source-filter: incl IN IP4 239.69.20.1 10.67.20.1\r\n');
    expect(clauses(sessionFilter)).toContain('warning FIELD-NOTES Dante (aes67-linux-daemon#94)');
  });
});
