// The rig file and the real-time plan: mistakes named with file:line and the fix; what only
// makes sense in virtual time refused with the key and the reason; each returned channel's
// origin worked out through the rig's loopback map.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../native/index.ts';
import { loadScenario } from '../scenario/load.ts';
import { parseYamlWith } from '../scenario/yaml-source.ts';
import { scenarioSchema } from '../scenario/schema.ts';
import { METRICS } from '../scenario/metrics.ts';
import { planScenario, REAL_TIME_METRICS, RUNNER_EXPECTATIONS } from './plan.ts';
import { loadRig, parseSizeKiB, rigSchema } from './rig.ts';

const RIG = `name: bench
lab: { interface: eth0, address: 10.67.160.1 }
dut: { kind: software-dut, address: 10.67.160.2, control: "unix:/tmp/dut.sock" }
loopback: { 1: 1, 2: 2, 3: 3, 4: 4 }
`;
const rigOf = (text: string) => parseYamlWith('rig.yaml', text, rigSchema);
const errorOf = (text: string) => {
  try {
    rigOf(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('rig file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'a67h-rig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a rig with its defaults', () => {
    const r = rigOf(RIG);
    expect(r.ptp).toEqual({ grandmaster: 'lab' });
    expect(r.multicast).toBe('239.69.160');
    expect(r.capture.seconds).toBe(20);
  });

  it('names file:line, the key and the fix', () => {
    expect(errorOf(RIG.replace('loopback:', 'loopbak:'))).toMatch(/^rig\.yaml:1:1: loopback: is missing: say how the DUT is wired/);
    expect(errorOf(`${RIG}captur: {}\n`)).toMatch(/^rig\.yaml:5:\d+: unknown key 'captur'/);
    expect(errorOf(RIG.replace('2: 2', '2: 1'))).toMatch(/^rig\.yaml:4:\d+: loopback\.2: output 1 is also fed by input 1: one input per output/);
    expect(errorOf(RIG.replace('software-dut', 'pc'))).toMatch(/^rig\.yaml:3:\d+: dut\.kind: kind: 'software-dut' .* or 'macos-driver'/);
    expect(errorOf(RIG.replace('"unix:/tmp/dut.sock"', '10.0.0.1:80'))).toMatch(/dut\.control: the control endpoint as aes67-dut prints it/);
    expect(errorOf(`${RIG}ptp: { grandmaster: external }\n`)).toMatch(/^rig\.yaml:5:\d+: ptp\.identity: the expected grandmaster identity as SDP writes it/);
    expect(errorOf(RIG.replace('}\nloop', ', process: { rssGrowthMax: 1MiB } }\nloop'))).toMatch(/dut\.process: give exactly one of pid or pidFile/);
    expect(errorOf(RIG.replace('software-dut', 'macos-driver').replace('}\nloop', ', process: { pid: 1, rssGrowthMax: 1MiB } }\nloop'))).toMatch(/reading a macOS driver's memory \(coreaudiod\) is not implemented/);
    expect(errorOf(RIG.replace('10.67.160.2', '10.67.160.1'))).toMatch(/dut\.address: is the lab's address too/);
  });

  it('reads the DUT pid from a pid file, and sizes with units', () => {
    writeFileSync(path.join(dir, 'dut.pid'), '4242\n');
    const f = path.join(dir, 'rig.yaml');
    writeFileSync(f, RIG.replace('}\nloop', ', process: { pidFile: dut.pid, rssGrowthMax: 4MiB } }\nloop'));
    const l = loadRig(f);
    expect(l.dutPid).toBe(4242);
    expect(l.rig.dut.process?.rssGrowthMax).toBe(4096);
    expect(parseSizeKiB('512KiB')).toBe(512);
    expect(parseSizeKiB('1MB')).toBeCloseTo(976.5625);
    expect(() => parseSizeKiB(4)).toThrow(/has no unit/);
  });
});

describe('real-time plan', () => {
  const rig = rigOf(RIG);
  const scenario = (file: string) => loadScenario(path.join(projectRoot, 'scenarios', file)).scenario;

  it('refuses what only runs in virtual time, naming each key and why', () => {
    const p = planScenario(scenario('impairments/gm-failover.yaml'), rig);
    expect(p.refusals.join('\n')).toMatch(/grandmasters: one grandmaster at most on the rig/);
    expect(p.refusals.join('\n')).toMatch(/grandmasters\[0\]\.events: scripted grandmaster events .* virtual time only/);
    expect(p.refusals.join('\n')).toMatch(/expect\.ptp\.offsetMax: is the slave's true error, exact only in virtual time/);
    // loss-1pct impairs every packet (PTP and discovery too) both ways: the relay carries the senders' media into the DUT only.
    const lossAll = planScenario(scenario('impairments/loss-1pct.yaml'), rig).refusals.join('\n');
    expect(lossAll).toMatch(/network\.select\.traffic: on a real link the impairment relay carries the lab senders' media only/);
    expect(lossAll).toMatch(/network\.select\.path: .* write path: to-device/);
    expect(lossAll).toMatch(/expect\.glitches\.equalsLedger: also needs the DUT's read window/);
    expect(lossAll).not.toMatch(/expect\.glitches\.equalsLost|expect\.network\.lost|expect\.glitches\.unexplained/);
    expect(planScenario(scenario('smoke/discovery.yaml'), rig).refusals.join('\n')).toMatch(/expect\.discovery\.time: is timed to the network delay in virtual time/);
    expect(planScenario(scenario('smoke/discovery.yaml'), rig).refusals.join('\n')).not.toMatch(/senders\[0\]\.kind/);
    expect(planScenario(scenario('device-drift.yaml'), rig).refusals.join('\n')).toMatch(/device\.hostDrift/);
  });

  it("refuses a scenario's ptp.steps (every step of a run, the acquisition's too) and names what the runner judges instead", () => {
    const steps = planScenario(scenario('impairments/ptp-step.yaml'), rig).refusals.join('\n');
    expect(steps).toMatch(/expect\.ptp\.steps: counts every step of the run, the first lock's included .*\(ptp\.stepsInSpan, max 0\)/);
    // What the runner judges by itself is no scenario metric (a scenario cannot name it) and none the scenario's judged names hold twice.
    for (const name of RUNNER_EXPECTATIONS.keys()) {
      expect(METRICS.has(name), name).toBe(false);
      expect(REAL_TIME_METRICS.has(name), name).toBe(false);
    }
    expect(REAL_TIME_METRICS.get('ptp.lockTime')).toMatch(/the DUT's own time to lock, from its status \(ptp\.lastAcquisitionS\)/);
  });

  it('takes the HIL scenarios as they are', () => {
    expect(planScenario(scenario('hil/loopback-2x2.yaml'), rig).refusals).toEqual([]);
    for (const f of ['hil/dante-sap-2ch.yaml', 'hil/ravenna-rtsp.yaml', 'hil/loss-1pct.yaml']) expect(planScenario(scenario(f), rig).refusals, f).toEqual([]);
    const dante = planScenario(scenario('hil/dante-sap-2ch.yaml'), rig);
    expect(dante.senders.map((x) => [x.discovery, x.destination])).toEqual([['sap', undefined]]);
    expect(dante.relay).toBe(false);
    expect(planScenario(scenario('hil/ravenna-rtsp.yaml'), rig).senders.map((x) => [x.discovery, x.destination])).toEqual([['rtsp', '239.69.160.1:5004']]);
    const loss = planScenario(scenario('hil/loss-1pct.yaml'), rig);
    expect([loss.relay, loss.senders[0].discovery]).toEqual([true, 'sdp']);
    expect(planScenario(scenario('soak/real-5min.yaml'), rigOf(RIG.replace('3: 3, 4: 4 }', '3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8 }'))).refusals).toEqual([]);
  });

  it('refuses what the relay and the real-time senders cannot do, naming the key and the fix', () => {
    const text = (extra: string) => `name: x\ndescription: d\nproves: p\nduration: 2s\ngrandmasters: [{ name: gm }]\n${extra}`;
    const plan = (extra: string) => planScenario(parseYamlWith('x.yaml', text(extra), scenarioSchema), rig).refusals.join('\n');
    const sender = 'senders: [{ name: a, kind: aes67, probe: { channel: 2 } }]\n';
    expect(plan(`${sender}network: { loss: 1%, select: { traffic: [media, ptp], path: to-device } }\nexpect: { network.lost: { min: 1 } }\n`)).toMatch(/network\.select\.traffic: .*relayed PTP would be stamped before its delay/);
    expect(plan(`${sender}network: { loss: 1%, select: { traffic: [media], path: from-device } }\nexpect: { network.lost: { min: 1 } }\n`)).toMatch(/network\.select\.path: .*the DUT's own streams reach the lab's receivers directly/);
    expect(plan(`${sender}network: { active: { from: 1s } }\nexpect: { network.lost: { equals: 0 } }\n`)).toMatch(/network\.active: selects what impairments hit, but the scenario has none/);
    expect(plan('senders: [{ name: a, kind: aes67 }]\nexpect: { glitches.equalsLost: { equals: true } }\n')).toMatch(/expect: glitches\.equalsLost: lost audio is placed .* add probe/);
    expect(plan('senders: [{ name: r, kind: ravenna, events: [{ at: 1s, session: { destination: 239.1.1.1:5004 } }] }]\nnetwork: { loss: 1%, select: { traffic: [media], path: to-device } }\nexpect: { network.lost: { min: 1 } }\n')).toMatch(/senders\[0\]\.events\[0\]\.session: .*leaves the impairment relay behind/);
    expect(plan('senders: [{ name: a, kind: aes67, reboots: [{ at: 1s, ssrc: 5 }] }]\nexpect: { glitches.count: { max: 1 } }\n')).toMatch(/senders\[0\]\.reboots: sender reboots run in virtual time only/);
    expect(plan('senders: [{ name: p, kind: pcap, file: x.pcap }]\nexpect: { rtp.lab.lost: { max: 1 } }\n')).toMatch(/senders\[0\]\.kind: pcap senders replay a capture in virtual time only/);
    expect(plan(`${sender}network: { loss: 1%, select: { traffic: [media], path: to-device } }\nexpect: { network.lost: { min: 1 }, glitches.equalsLost: { equals: true }, network.delayMax: { max: 1ms } }\n`)).toBe('');
  });

  it('works out where every returned channel comes from, through the rig loopback map', () => {
    const s = scenario('hil/loopback-2x2.yaml');
    const straight = planScenario(s, rig);
    expect(straight.senders.map((x) => x.inputs)).toEqual([[1, 2], [3, 4]]);
    expect(straight.transmit.map((t) => [t.destination, t.outputs])).toEqual([['239.69.160.101:5004', [1, 2]], ['239.69.160.102:5004', [3, 4]]]);
    const swapped = planScenario(s, rigOf(RIG.replace('{ 1: 1, 2: 2, 3: 3, 4: 4 }', '{ 1: 2, 2: 1, 3: 4, 4: 3 }')));
    // Sender 1 channel 1 lands on input 1, which the rig says output 2 plays.
    expect(swapped.transmit[0].outputs).toEqual([2, 1]);
    expect(swapped.transmit[0].origins.map((o) => o && [o.sender, o.channel, o.input, o.output])).toEqual([[0, 0, 1, 2], [0, 1, 2, 1]]);
    const unwired = planScenario(s, rigOf(RIG.replace('{ 1: 1, 2: 2, 3: 3, 4: 4 }', '{ 1: 1, 2: 2, 3: 3 }')));
    expect(unwired.refusals.join('\n')).toMatch(/senders\[1\]: lands on DUT input 4 \(channel 2\), which the rig's loopback map does not wire to an output; add 4: <output> to loopback/);
  });

  it('plans device events on the stream the scenario names; refuses them in virtual time, past the end, on an unknown stream, or out of turn', () => {
    const text = (extra: string, clock = 'clock: real\n') => `name: x\ndescription: d\nproves: p\n${clock}duration: 8s\ngrandmasters: [{ name: gm }]\nsenders: [{ name: a, kind: aes67, probe: { channel: 2 } }, { name: b, kind: aes67 }]\nexpect: { glitches.count: { equals: 0 } }\n${extra}`;
    const parse = (extra: string, clock?: string) => parseYamlWith('x.yaml', text(extra, clock), scenarioSchema);
    const errorOfScenario = (extra: string, clock?: string) => {
      try {
        parse(extra, clock);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    // Default TX streams are named by the sender whose audio they return ('b' -> 'b back', the second).
    const p = planScenario(parse('device: { events: [{ at: 6s, stopTx: b }, { at: 3s, stopTx: a }, { at: 7s, startTx: b }] }\n'), rig);
    expect(p.refusals).toEqual([]);
    // In time order, whatever the file's order.
    expect(p.dutEvents).toEqual([{ at: 3e9, action: 'stop', tx: 0 }, { at: 6e9, action: 'stop', tx: 1 }, { at: 7e9, action: 'start', tx: 1 }]);
    expect(p.transmit[p.dutEvents[1].tx].name).toBe('b back');
    const named = planScenario(parse('device: { tx: [{ name: one, map: [3, 4] }, { name: two, map: [1, 2] }], events: [{ at: 1s, stopTx: two }] }\n'), rig);
    expect(named.dutEvents).toEqual([{ at: 1e9, action: 'stop', tx: 1 }]);
    expect(planScenario(parse('device: { events: [{ at: 1s, stopTx: b }, { at: 2s, stopTx: b }] }\n'), rig).refusals.join('\n')).toMatch(/device\.events\[1\]\.stopTx: 'b' is stopped again at 2 s, but it was stopped before and not started since/);
    expect(planScenario(parse('device: { events: [{ at: 1s, startTx: b }] }\n'), rig).refusals.join('\n')).toMatch(/device\.events\[0\]\.startTx: 'b' is started at 1 s, but it is sending then: stop it before/);
    expect(planScenario(parse('device: { events: [{ at: 2s, startTx: b }, { at: 1s, stopTx: b }] }\n'), rig).refusals).toEqual([]);
    expect(planScenario(parse('device: { events: [{ at: 1s, stopTx: b }] }\n'), rigOf(RIG.replace('{ 1: 1, 2: 2, 3: 3, 4: 4 }', '{ 1: 1, 2: 2, 3: 3 }'))).refusals.join('\n')).toMatch(/device\.events\[0\]\.stopTx: 'b' is no transmit stream the DUT gets on this rig \(it sends: a back\)/);
    expect(errorOfScenario('device: { events: [{ at: 1s, stopTx: b }] }\n', '')).toMatch(/device\.events\[0\]: device events are made to happen by the HIL runner on a real DUT: set clock: real/);
    expect(errorOfScenario('device: { events: [{ at: 8s, stopTx: b }] }\n')).toMatch(/device\.events\[0\]\.at: is not before the scenario's end \(8 s\)/);
    expect(errorOfScenario('device: { events: [{ at: 1s, stopTx: c }] }\n')).toMatch(/device\.events\[0\]\.stopTx: no device TX stream 'c'; the device sends: a, b/);
    expect(errorOfScenario('device: { events: [{ at: 1s, stop: b }] }\n')).toMatch(/device\.events\[0\]: a device event is \{ at: <time>, stopTx: <TX stream> \} or \{ at: <time>, startTx: <TX stream> \}/);
  });

  it('a scenario with clock: real is refused by the virtual runner, not run', async () => {
    const { runScenario } = await import('../scenario/runner.ts');
    const text = 'name: rt\ndescription: d\nproves: p\nclock: real\nduration: 1s\nsenders: [{ name: x, kind: aes67 }]\nexpect: { rtp.lab.lost: { equals: 0 } }\n';
    const r = runScenario({ file: 'rt.yaml', scenario: parseYamlWith('rt.yaml', text, scenarioSchema) });
    expect(r.verdict).toBe('error');
    expect(r.error).toMatch(/clock: real: a real-time scenario runs only against a device on a rig \(ci\/hil\/run --rig/);
  });
});
