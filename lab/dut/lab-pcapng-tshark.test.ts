// Every kind of pcapng the lab writes opens in tshark with no warning. Already covered
// elsewhere: the live capture (lab/cli/capture.test.ts, and every protocol at once in
// dut-wireshark.live.test.ts), the peers' virtual captures (lab/net/mdns.test.ts,
// lab/peers/*-sender.test.ts), the bug report's capture cut (lab/report/bugreport.test.ts).
// Replay writes no pcapng (it sends). The gap filled here: the scenario runner's tap
// (lab/scenario/network-tap.ts), which writes the device's transmit packets for
// lab/analyze and was only ever read back by the lab's own reader. tshark must open it with
// nothing on stderr, flag nothing (malformed, expert warning or error), and find in it the
// same packets, as RTP on the device's streams, that the lab's reader finds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { openCapture } from '../net/pcap/reader.ts';
import { UdpDecoder, type UdpDatagram } from '../net/pcap/udp.ts';
import { tsharkFields, tsharkProblems } from '../net/tshark.ts';
import { loadScenario } from '../scenario/load.ts';
import { recordScenario } from '../scenario/runner.ts';
import { which } from './test-support.ts';

const missing = !addonBuilt() ? 'the native addon is not built (npm run build)' : !which('tshark') ? 'missing tshark' : undefined;

describe.skipIf(missing !== undefined)(`the scenario runner's capture opens cleanly in tshark (${missing ?? 'addon, tshark'})`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['scenarios/smoke/aes67-loopback.yaml', 'scenarios/smoke/discovery.yaml'])('%s: device-tx.pcapng', (scenario) => {
    const file = path.join(dir, `${path.basename(scenario, '.yaml')}.pcapng`);
    const record = recordScenario(loadScenario(path.join(projectRoot, scenario)), 1, file);
    expect(record.captureFile).toBe(file);
    const opened = spawnSync('tshark', ['-r', file, '-q'], { encoding: 'utf8' });
    expect(opened.status, opened.stderr).toBe(0);
    expect(opened.stderr.split('\n').filter((l) => l.trim() !== '' && !/running as user "root"/i.test(l))).toEqual([]);

    const reader = openCapture(file);
    const decoder = new UdpDecoder();
    const ours: UdpDatagram[] = [];
    for (const frame of reader) {
      const d = decoder.decode(frame);
      if (d) ours.push(d);
    }
    expect(decoder.counters.frames, 'every frame the lab wrote is UDP').toBe(ours.length);
    // The tap writes the device's media and its SAP announcements: RTP by decode-as on the media ports.
    const ports = [...new Set(ours.map((d) => d.destinationPort))].filter((p) => p !== 9875);
    const decodeAs = ports.flatMap((p) => ['-d', `udp.port==${p},rtp`]);
    expect(tsharkProblems(file, decodeAs)).toEqual([]);
    const theirs = tsharkFields(file, ['frame.protocols', 'rtp.seq'], decodeAs);
    expect(theirs.length).toBe(ours.length);
    expect(theirs.length).toBeGreaterThan(0);
    const kinds = new Map<string, number>();
    for (const [protocols] of theirs) kinds.set(protocols, (kinds.get(protocols) ?? 0) + 1);
    console.log(`${scenario}: ${theirs.length} packets, media ports ${ports.join(',')}; tshark: ${JSON.stringify(Object.fromEntries(kinds))}, nothing flagged`);
    const rtp = theirs.filter(([protocols]) => protocols.endsWith(':rtp')).length;
    const sap = theirs.filter(([protocols]) => protocols.endsWith(':sap:sdp')).length;
    expect(rtp).toBeGreaterThan(0);
    expect(rtp + sap, 'every packet dissected as RTP or SAP/SDP').toBe(theirs.length);
    expect(rtp).toBe(ours.filter((d) => d.destinationPort !== 9875).length);
  }, 120_000);
});
