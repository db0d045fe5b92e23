// Crossing: linuxptp's ptp4l as grandmaster in namespace A (software time stamping, its own
// UDS socket, AES67 media profile intervals, master only: it reads the shared system clock
// and never adjusts it), the software DUT with PTP on in B, tshark in C. The DUT's GET
// /status must report it locked to ptp4l's clock identity — as ptp4l's own log and pmc's
// DEFAULT_DATA_SET name it — and the ts-refclk of its TX SDP, both as served on GET
// /streams/<id>/sdp and as Wireshark's SAP/SDP dissector reads it off the wire, must name
// that grandmaster in AES67's form.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { SERVO_LOCK_RULE } from '../ptp/lock-criterion.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess, type DutStatusJson } from './dut-client.ts';
import { missingForDut, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['ptp4l', 'pmc', 'tshark']) : usable.reason;
const SUBNET = 135;

/** ptp4l's identity (xxxxxx.xxxx.xxxxxx) as AES67 writes a ts-refclk gmid (XX-XX-XX-XX-XX-XX-XX-XX). */
function gmidOf(ptp4lIdentity: string): string {
  return ptp4lIdentity.replace(/\./g, '').toUpperCase().match(/../g)!.join('-');
}

describe.skipIf(missing !== undefined)(`aes67-dut locked to ptp4l (${missing ?? 'root, ptp4l, pmc, tshark'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67dxp-'));
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports lock to the ptp4l grandmaster and names it in ts-refclk (served SDP and SAP on the wire)', async () => {
    net = createNetns({ prefix: 'a67dxp', hosts: ['gm', 'dut', 'cap'], subnet: SUBNET });
    const gmConf = path.join(dir, 'gm.cfg');
    writeFileSync(
      gmConf,
      ['[global]', 'time_stamping software', 'logAnnounceInterval 1', 'logSyncInterval -3', 'logMinDelayReqInterval -3', 'domainNumber 0',
        'priority1 128', 'masterOnly 1', 'free_running 1', `uds_address ${path.join(dir, 'gm.sock')}`, ''].join('\n'),
    );
    const gm = net.spawn('gm', 'ptp4l', ['-i', 'eth0', '-m', '-S', '-f', gmConf]);
    const gmOut = collect(gm);
    const deadline = Date.now() + 30_000;
    while (!/assuming the grand master role/.test(gmOut.stdout) && Date.now() < deadline) await sleep(100);
    const gmIdentity = gmOut.stdout.match(/selected local clock (\S+) as best master/)?.[1];
    expect(gmIdentity, `ptp4l became grandmaster:\n${gmOut.stdout}${gmOut.stderr}`).toBeDefined();
    const pmc = net.exec('gm', 'pmc', ['-u', '-s', path.join(dir, 'gm.sock'), '-b', '0', 'GET DEFAULT_DATA_SET'], 10_000);
    expect(pmc.match(/clockIdentity\s+(\S+)/)?.[1]).toBe(gmIdentity);

    // tshark in C: every SAP packet, with the SDP attributes Wireshark's dissector finds.
    const capture = net.spawn('cap', 'tshark', ['-i', 'eth0', '-l', '-f', 'udp port 9875', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.time_epoch', '-e', 'sap.flags.t', '-e', 'sdp.media_attr']);
    const captured = collect(capture);
    await sleep(1_500); // tshark opens the interface

    const config = {
      interface: 'eth0',
      device: { inputChannels: 2, outputChannels: 2, ioBufferFrames: 64, linkOffsetFrames: 96 },
      ptp: { domain: 0 },
      tx: [{ id: 'out', name: 'DUT on ptp4l', destination: `239.69.${SUBNET}.2:5004`, ptimeUs: 1000, channelMap: [1, 2] }],
      sap: { intervalSeconds: 5 },
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    const started = Date.now();
    dut = await attachDut(net.spawn('dut', DUT_BINARY, ['--config', file]));
    let status: DutStatusJson | undefined;
    while (Date.now() - started < 40_000) {
      status = await dut.client.status();
      if (status.ptp.locked && (status.ptp.lockedForS ?? 0) > 3) break;
      await sleep(500);
    }
    const sdp = await dut.client.sdp('out');
    await sleep(500);
    capture.kill('SIGINT');
    await captured.exited;

    const p = status!.ptp;
    console.log(
      `aes67-dut on ptp4l ${gmIdentity} (software stamps, veth): lock time ${p.lockTimeS?.toFixed(2)} s, offset ${p.offsetNs} ns, path delay ${p.pathDelayNs} ns, ` +
        `frequency ${p.frequencyPpb?.toFixed(0)} ppb, steps ${p.counters?.steps}, lock losses ${p.counters?.lockLosses}, kernel stamp fallbacks ${p.counters?.transmitStampFallbacks}; time-line restarts ${status!.resync.clockSteps}; ` +
        `lock window ${p.lockWindowNs?.toFixed(0)} ns (stamp noise ${p.measurementNoiseNs?.toFixed(0)} ns)`,
    );
    // The window the DUT judged lock against is the servo's rule applied to the noise it reports.
    const r = SERVO_LOCK_RULE;
    expect(p.lockWindowNs!).toBeCloseTo(Math.min(r.lockWindowMaxNs, Math.max(r.lockThresholdNs, r.lockNoiseFactor * p.measurementNoiseNs!)), 0);
    expect(p.enabled).toBe(true);
    expect(p.locked).toBe(true);
    expect(p.portState).toBe('SLAVE');
    expect(p.grandmaster).toBe(gmIdentity);
    expect(p.lockTimeS).not.toBeNull();
    expect(p.lockTimeS!).toBeLessThan(20);
    expect(Math.abs(p.offsetNs!)).toBeLessThan(100_000);
    // The acquisition step moved the device from its free-running stand-in to PTP time: one restart.
    expect(status!.resync.clockSteps).toBe(1);
    expect(status!.device.counters.ioErrors).toBe(0);

    // ts-refclk, served and on the wire.
    const refclk = `ts-refclk:ptp=IEEE1588-2008:${gmidOf(gmIdentity!)}:0`;
    expect(sdp).toContain(`a=${refclk}\r\n`);
    expect(p.tsRefclk).toBe(refclk.slice('ts-refclk:'.length));
    const announcements = captured.stdout.split('\n').filter((l) => l.includes('|')).map((l) => l.split('|'));
    const withGm = announcements.filter(([, deletion, attrs]) => deletion !== '1' && attrs.split(',').includes(refclk));
    expect(announcements.length, captured.stderr).toBeGreaterThan(0);
    expect(withGm.length, `a SAP announcement naming the grandmaster:\n${captured.stdout}`).toBeGreaterThan(0);
    // Before the grandmaster was known the DUT announced "traceable", then re-announced at once.
    const traceable = announcements.filter(([, deletion, attrs]) => deletion !== '1' && attrs.includes('ts-refclk:ptp=IEEE1588-2008:traceable'));
    if (traceable.length > 0) {
      const firstGm = Number(withGm[0][0]);
      const lastTraceable = Math.max(...traceable.map(([t]) => Number(t)));
      expect(firstGm).toBeGreaterThan(lastTraceable);
    }

    expect(await dut.stop()).toBe(0);
    gm.kill('SIGTERM');
  }, 90_000);
});
