import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { runVirtual, type LabTransport } from '../net/lab-transport.ts';
import { formatClockIdentity, parsePtp, PTP_EVENT_PORT, PTP_GENERAL_PORT, type PtpMessage } from '../net/ptp.ts';
import { tsharkFields, tsharkProblems } from '../net/tshark.ts';
import { withTempDir } from '../net/test-support.ts';
import { Grandmaster, macFromSeed, PTP_DSCP, type GrandmasterOptions } from './grandmaster.ts';
import { PtpProbe, virtualPtpNetwork, writeTapCapture, type TappedDatagram } from './grandmaster-test-support.ts';

const S = 1_000_000_000;
const GM = '10.67.120.1';
const SLAVE = '10.67.120.2';

function run(options: GrandmasterOptions, seconds: number, probe?: { periodNs: number; firstAt?: number; correction?: bigint; domain?: number }) {
  const net = virtualPtpNetwork();
  const gm = new Grandmaster(net.host(GM), options);
  const p = probe ? new PtpProbe(net.host(SLAVE), { clockIdentity: '0200000afffe7802', portNumber: 1 }, probe.periodNs, probe.firstAt ?? 7_000_000, probe.domain ?? 0, probe.correction) : undefined;
  // Inclusive: whatever falls due at exactly `seconds` is sent.
  runVirtual(p ? [gm, p] : [gm], net.network, net.clock, { untilNs: Math.round(seconds * S) });
  gm.close();
  p?.close();
  const fromGm = net.tapped.filter((t) => t.source.startsWith(`${GM}:`));
  const of = <T extends PtpMessage['type']>(type: T) => fromGm.filter((t) => t.ptp?.type === type) as (TappedDatagram & { ptp: Extract<PtpMessage, { type: T }> })[];
  return { net, gm, probe: p, fromGm, of };
}

/** Two passes with tshark's PTP exchange analysis (off by default): Sync/Follow_Up pairing. */
const ANALYZE = ['-2', '-o', 'ptp.analyze_ptp_messages:TRUE'];

const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);

describe('grandmaster emulator in virtual time', () => {
  it('sends Announce and Sync + Follow_Up at the AES67 intervals, with its identity, domain, priorities and DSCP', () => {
    const { gm, fromGm, of } = run({ domain: 3, priority1: 100, priority2: 120, clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4e5d, identitySeed: '02:00:0a:43:78:01' }, 16.001);
    expect(gm.identity).toBe('02000a.fffe.437801');
    const announce = of('announce');
    const sync = of('sync');
    const followUp = of('followUp');
    // 2^1 s and 2^-3 s from t = 0 to 16 s inclusive.
    expect(announce.length).toBe(9);
    expect(sync.length).toBe(129);
    expect(followUp.length).toBe(129);
    expect(new Set(gaps(announce.map((a) => a.sentAt)))).toEqual(new Set([2 * S]));
    expect(new Set(gaps(sync.map((a) => a.sentAt)))).toEqual(new Set([S / 8]));
    for (const t of fromGm) {
      expect(t.ptp!.domain).toBe(3);
      expect(formatClockIdentity(t.ptp!.sourcePortIdentity.clockIdentity)).toBe('02000a.fffe.437801');
      const port = Number(t.destination.split(':')[1]);
      expect(t.destination).toBe(`224.0.1.129:${port}`);
      expect(t.dscp).toBe(port === PTP_EVENT_PORT ? 46 : 34);
    }
    for (const a of announce) {
      expect(a.ptp).toMatchObject({ logMessageInterval: 1, grandmasterPriority1: 100, grandmasterPriority2: 120, stepsRemoved: 0, currentUtcOffset: 37, grandmasterIdentity: '02000afffe437801' });
      expect(a.ptp.grandmasterClockQuality).toEqual({ clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4e5d });
      expect(a.ptp.flags).toMatchObject({ ptpTimescale: true, currentUtcOffsetValid: true });
    }
    sync.forEach((s, i) => {
      expect(s.ptp.flags.twoStep).toBe(true);
      expect(s.ptp.logMessageInterval).toBe(-3);
      expect(followUp[i].ptp.sequenceId).toBe(s.ptp.sequenceId);
      expect(s.ptp.sequenceId).toBe(i);
      // The stamp is the grandmaster's PTP time when the Sync left.
      expect(followUp[i].ptp.preciseOriginTimestamp).toBe(gm.timescale.ptpTimeAt(s.sentAt));
    });
  });

  it('marks PTP with RAVENNA DSCP and sends one-step Sync, stamped with its send time, when asked', () => {
    const { gm, fromGm, of } = run({ profile: 'ravenna', twoStep: false }, 2.001);
    for (const t of fromGm) expect(t.dscp).toBe(t.destination.endsWith(`:${PTP_EVENT_PORT}`) ? PTP_DSCP.ravenna.event : PTP_DSCP.ravenna.general);
    expect(of('followUp')).toEqual([]);
    expect(of('sync').length).toBe(17);
    for (const s of of('sync')) {
      expect(s.ptp.flags.twoStep).toBe(false);
      expect(s.ptp.originTimestamp).toBe(gm.timescale.ptpTimeAt(s.sentAt));
    }
  });

  it('follows other log intervals than the defaults', () => {
    const { of } = run({ logAnnounceInterval: 0, logSyncInterval: 0, logMinDelayReqInterval: 2 }, 10, { periodNs: S, domain: 0 });
    expect(gaps(of('announce').map((a) => a.sentAt))).toEqual(new Array(10).fill(S));
    expect(gaps(of('sync').map((a) => a.sentAt))).toEqual(new Array(10).fill(S));
    for (const a of of('announce')) expect(a.ptp.logMessageInterval).toBe(0);
    for (const r of of('delayResp')) expect(r.ptp.logMessageInterval).toBe(2);
  });

  it('answers each Delay_Req with its receive time stamp, sequence id, correction and requesting port', () => {
    const { net, gm, probe, of } = run({}, 4, { periodNs: S / 8, firstAt: 3_333_333, correction: 0x12345n });
    const resp = of('delayResp');
    expect(probe!.delayReqSentAt.size).toBe(32);
    expect(resp.length).toBe(32);
    for (const r of resp) {
      const sentAt = probe!.delayReqSentAt.get(r.ptp.sequenceId)!;
      expect(r.ptp.requestingPortIdentity).toEqual(probe!.portIdentity);
      expect(r.ptp.receiveTimestamp).toBe(gm.timescale.ptpTimeAt(sentAt + net.baseDelayNs));
      expect(r.ptp.correction).toBe(0x12345n);
      expect(r.ptp.logMessageInterval).toBe(-3);
    }
    // E2E from the probe's side: its receive times are on the same virtual clock as the
    // grandmaster's base, so offset must be 0 and the mean path delay the network's delay.
    const rx = new Map(probe!.received.map((x) => [`${x.message.type}#${x.message.sequenceId}`, x]));
    for (const r of resp) {
      const t3 = gm.timescale.ptpTimeAt(probe!.delayReqSentAt.get(r.ptp.sequenceId)!);
      const t4 = r.ptp.receiveTimestamp;
      const sync = rx.get(`sync#${r.ptp.sequenceId}`)!;
      const fu = rx.get(`followUp#${r.ptp.sequenceId}`)!.message as Extract<PtpMessage, { type: 'followUp' }>;
      const t1 = fu.preciseOriginTimestamp;
      const t2 = gm.timescale.ptpTimeAt(sync.receivedAt);
      const delay = (t2 - t1 + (t4 - t3)) / 2n;
      expect(delay).toBe(BigInt(net.baseDelayNs));
      expect(t2 - t1 - delay).toBe(0n);
    }
  });

  it('answers two slaves, each with its own port identity and sequence ids', () => {
    const net = virtualPtpNetwork();
    const gm = new Grandmaster(net.host(GM));
    const a = new PtpProbe(net.host('10.67.120.2'), { clockIdentity: '0200000afffe7802', portNumber: 1 }, S / 8, 1_000_000);
    const b = new PtpProbe(net.host('10.67.120.3'), { clockIdentity: '0200000afffe7803', portNumber: 7 }, S / 4, 1_000_000);
    runVirtual([gm, a, b], net.network, net.clock, { untilNs: 2 * S });
    for (const p of [a, b]) {
      const mine = p.received.filter((x) => x.message.type === 'delayResp' && x.message.requestingPortIdentity.clockIdentity === p.portIdentity.clockIdentity);
      expect(mine.map((x) => x.message.sequenceId)).toEqual([...p.delayReqSentAt.keys()]);
      for (const x of mine) {
        const m = x.message as Extract<PtpMessage, { type: 'delayResp' }>;
        expect(m.requestingPortIdentity).toEqual(p.portIdentity);
        expect(m.receiveTimestamp).toBe(gm.timescale.ptpTimeAt(p.delayReqSentAt.get(m.sequenceId)! + net.baseDelayNs));
      }
    }
    expect(gm.counts.delayResp).toBe(a.delayReqSentAt.size + b.delayReqSentAt.size);
    for (const x of [gm, a, b]) x.close();
  });

  it('ignores Delay_Req of another domain, its own messages, and counts malformed datagrams by reason', () => {
    const net = virtualPtpNetwork();
    const gm = new Grandmaster(net.host(GM), { domain: 0 });
    const other = new PtpProbe(net.host(SLAVE), { clockIdentity: '0200000afffe7802', portNumber: 1 }, S / 4, 1000, 5);
    runVirtual([gm, other], net.network, net.clock, { untilNs: 0.5 * S });
    other.sendRaw(Uint8Array.of(0x00, 0x01, 0, 0)); // PTPv1
    other.sendRaw(new Uint8Array(10).fill(0x02)); // v2, truncated
    other.sendRaw(Uint8Array.of(0x05, 0x02, ...new Array(42).fill(0))); // messageType 5
    runVirtual([gm, other], net.network, net.clock, { untilNs: 1 * S });
    expect(gm.counts.malformed).toEqual({ ptpv1: 1, truncated: 1, 'unknown-message-type': 1 });
    expect(gm.counts.ignored['other-domain']).toBe(other.delayReqSentAt.size);
    expect(gm.counts.delayResp).toBe(0);
    gm.close();
    other.close();
  });

  it('steps its time by +1 ms and -2 ms at the scripted moments, visible in Follow_Up', () => {
    const { gm, of } = run({ script: [{ atNs: 2 * S, kind: 'step', ns: 1_000_000 }, { atNs: 4 * S, kind: 'step', ns: -2_000_000 }] }, 6);
    const base = gm.timescale.base;
    for (const f of of('followUp')) {
      const sentAt = of('sync').find((s) => s.ptp.sequenceId === f.ptp.sequenceId)!.sentAt;
      const offset = f.ptp.preciseOriginTimestamp - base.ptpTimeAt(sentAt);
      expect(offset).toBe(sentAt < 2 * S ? 0n : sentAt < 4 * S ? 1_000_000n : -1_000_000n);
    }
  });

  it('runs +100 ppm fast from the scripted moment: the Follow_Up stamps show the rate', () => {
    const { gm, of } = run({ script: [{ atNs: 1 * S, kind: 'frequency', ppm: 100 }] }, 5);
    const pts = of('sync').map((s, i) => ({ local: s.sentAt, ptp: of('followUp')[i].ptp.preciseOriginTimestamp }));
    const before = pts.filter((p) => p.local <= 1 * S);
    const after = pts.filter((p) => p.local >= 1 * S);
    const rate = (xs: typeof pts) => (Number(xs[xs.length - 1].ptp - xs[0].ptp) / (xs[xs.length - 1].local - xs[0].local) - 1) * 1e6;
    expect(rate(before)).toBeCloseTo(0, 6);
    expect(rate(after)).toBeCloseTo(100, 3);
    // Continuous at the change: no step.
    expect(gm.timescale.ptpTimeAt(1 * S)).toBe(gm.timescale.base.ptpTimeAt(1 * S));
  });

  it('stops announcing (Sync goes on), and goes silent (nothing, no Delay_Resp), at the scripted moments', () => {
    const a = run({ script: [{ atNs: 4.5 * S, kind: 'stop-announcing' }, { atNs: 8.5 * S, kind: 'resume-announcing' }] }, 12);
    expect(a.of('announce').map((x) => x.sentAt / S)).toEqual([0, 2, 4, 8.5, 10.5]);
    expect(a.of('sync').length).toBe(97);
    const s = run({ script: [{ atNs: 3.05 * S, kind: 'silence' }] }, 6, { periodNs: S / 8, firstAt: 1000 });
    expect(Math.max(...s.fromGm.map((x) => x.sentAt))).toBeLessThan(3.05 * S + s.net.baseDelayNs);
    expect(s.of('delayResp').length).toBe(25);
    expect(s.gm.counts.ignored['delay-req-while-not-master']).toBe(s.probe!.delayReqSentAt.size - 25);
  });

  it('changes clockClass and priorities in its Announce at the scripted moments', () => {
    const { of } = run({ clockClass: 248, script: [{ atNs: 3 * S, kind: 'clock-class', clockClass: 6 }, { atNs: 5 * S, kind: 'priority', priority1: 10, priority2: 20 }] }, 8);
    expect(of('announce').map((a) => [a.sentAt / S, a.ptp.grandmasterClockQuality.clockClass, a.ptp.grandmasterPriority1, a.ptp.grandmasterPriority2])).toEqual([
      [0, 248, 128, 128],
      [2, 248, 128, 128],
      [4, 6, 128, 128],
      [6, 6, 10, 20],
      [8, 6, 10, 20],
    ]);
  });

  it('sends Follow_Up late or not at all when scripted; tshark pairs them and flags the missing ones', () => {
    const { net, of } = run({ script: [{ atNs: 1 * S, kind: 'follow-up', mode: 'late', lateNs: 20_000_000 }, { atNs: 2 * S, kind: 'follow-up', mode: 'missing' }, { atNs: 3 * S, kind: 'follow-up', mode: 'normal' }] }, 4);
    const sync = of('sync');
    const fu = new Map(of('followUp').map((f) => [f.ptp.sequenceId, f]));
    for (const s of sync) {
      const f = fu.get(s.ptp.sequenceId);
      if (s.sentAt < 1 * S || s.sentAt >= 3 * S) expect(f!.sentAt - s.sentAt).toBe(0);
      else if (s.sentAt < 2 * S) expect(f!.sentAt - s.sentAt).toBe(20_000_000);
      else expect(f).toBeUndefined();
    }
    withTempDir((dir) => {
      const file = path.join(dir, 'gm.pcapng');
      writeTapCapture(file, net.tapped);
      const rows = tsharkFields(file, ['frame.number', 'ptp.v2.messagetype', 'ptp.v2.sequenceid', 'ptp.v2.sync_no_fup', 'ptp.v2.analysis.synctofollowup', 'frame.time_epoch'], [...ANALYZE, '-Y', 'ptp']);
      const syncRows = rows.filter((r) => r[1] === '0x00');
      const noFollowUp = syncRows.filter((r) => r[3] !== '').map((r) => Number(r[2]));
      expect(noFollowUp).toEqual(sync.filter((s) => s.sentAt >= 2 * S && s.sentAt < 3 * S).map((s) => s.ptp.sequenceId));
      const time = new Map(rows.map((r) => [r[0], Number(r[5])]));
      for (const r of syncRows.filter((r) => r[4] !== '')) {
        const seq = Number(r[2]);
        const s = sync.find((x) => x.ptp.sequenceId === seq)!;
        const expected = s.sentAt >= 1 * S && s.sentAt < 2 * S ? 0.02 : 0;
        expect(time.get(r[4])! - time.get(r[0])!).toBeCloseTo(expected, 6);
      }
    });
  });

  it('writes only what tshark dissects cleanly, with the fields it meant to send', () => {
    const { net, gm } = run({ domain: 7, priority1: 99, priority2: 101, clockClass: 13, clockAccuracy: 0x22, offsetScaledLogVariance: 0x4321, timeSource: 0x20 }, 8, { periodNs: S / 8, domain: 7 });
    withTempDir((dir) => {
      const file = path.join(dir, 'gm.pcapng');
      writeTapCapture(file, net.tapped);
      // With tshark's PTP analysis on, a Sync without its Follow_Up would be a warning too.
      expect(tsharkProblems(file, ANALYZE)).toEqual([]);
      const fields = [
        'ip.src',
        'ip.dsfield.dscp',
        'udp.dstport',
        'ptp.v2.messagetype',
        'ptp.v2.domainnumber',
        'ptp.v2.sequenceid',
        'ptp.v2.clockidentity',
        'ptp.v2.flags.twostep',
        'ptp.v2.flags.timescale',
        'ptp.v2.flags.utcreasonable',
        'ptp.v2.logmessageperiod',
        'ptp.v2.fu.preciseorigintimestamp.seconds',
        'ptp.v2.fu.preciseorigintimestamp.nanoseconds',
        'ptp.v2.dr.receivetimestamp.seconds',
        'ptp.v2.dr.receivetimestamp.nanoseconds',
        'ptp.v2.dr.requestingsourceportidentity',
        'ptp.v2.an.priority1',
        'ptp.v2.an.priority2',
        'ptp.v2.an.grandmasterclockclass',
        'ptp.v2.an.grandmasterclockaccuracy',
        'ptp.v2.an.grandmasterclockvariance',
        'ptp.v2.an.grandmasterclockidentity',
        'ptp.v2.timesource',
        'ptp.v2.an.origincurrentutcoffset',
      ];
      const rows = tsharkFields(file, fields);
      expect(rows.length).toBe(net.tapped.length);
      const id = `0x${gm.portIdentity.clockIdentity}`;
      const syncs = new Map<number, number>();
      const reqs = new Map<number, number>();
      let seen = { sync: 0, followUp: 0, announce: 0, delayResp: 0, delayReq: 0 };
      rows.forEach((r, i) => {
        const t = net.tapped[i];
        const f = Object.fromEntries(fields.map((name, k) => [name, r[k]]));
        if (f['ip.src'] !== GM) {
          expect(f['ptp.v2.messagetype']).toBe('0x01');
          reqs.set(Number(f['ptp.v2.sequenceid']), t.sentAt);
          seen.delayReq++;
          return;
        }
        expect(f['ptp.v2.domainnumber']).toBe('7');
        expect(f['ptp.v2.clockidentity']).toBe(id);
        const event = f['udp.dstport'] === String(PTP_EVENT_PORT);
        expect(f['udp.dstport']).toBe(String(event ? PTP_EVENT_PORT : PTP_GENERAL_PORT));
        expect(f['ip.dsfield.dscp']).toBe(event ? '46' : '34');
        const ts = (s: string, n: string) => BigInt(f[s]) * 1_000_000_000n + BigInt(f[n]);
        switch (f['ptp.v2.messagetype']) {
          case '0x00':
            seen.sync++;
            expect(event).toBe(true);
            expect(f['ptp.v2.flags.twostep']).toMatch(/^(1|True)$/);
            expect(f['ptp.v2.logmessageperiod']).toBe('-3');
            syncs.set(Number(f['ptp.v2.sequenceid']), t.sentAt);
            break;
          case '0x08':
            seen.followUp++;
            expect(ts('ptp.v2.fu.preciseorigintimestamp.seconds', 'ptp.v2.fu.preciseorigintimestamp.nanoseconds')).toBe(gm.timescale.ptpTimeAt(syncs.get(Number(f['ptp.v2.sequenceid']))!));
            break;
          case '0x09':
            seen.delayResp++;
            expect(f['ptp.v2.dr.requestingsourceportidentity']).toBe('0x0200000afffe7802');
            expect(ts('ptp.v2.dr.receivetimestamp.seconds', 'ptp.v2.dr.receivetimestamp.nanoseconds')).toBe(gm.timescale.ptpTimeAt(reqs.get(Number(f['ptp.v2.sequenceid']))! + net.baseDelayNs));
            break;
          case '0x0b':
            seen.announce++;
            expect(f['ptp.v2.logmessageperiod']).toBe('1');
            expect(f['ptp.v2.flags.timescale']).toMatch(/^(1|True)$/);
            expect(f['ptp.v2.flags.utcreasonable']).toMatch(/^(1|True)$/);
            expect([f['ptp.v2.an.priority1'], f['ptp.v2.an.priority2'], f['ptp.v2.an.grandmasterclockclass']]).toEqual(['99', '101', '13']);
            expect([Number(f['ptp.v2.an.grandmasterclockaccuracy']), Number(f['ptp.v2.an.grandmasterclockvariance']), Number(f['ptp.v2.timesource'])]).toEqual([0x22, 0x4321, 0x20]);
            expect(f['ptp.v2.an.grandmasterclockidentity']).toBe(id);
            expect(f['ptp.v2.an.origincurrentutcoffset']).toBe('37');
            break;
          default:
            throw new Error(`unexpected message type ${f['ptp.v2.messagetype']}`);
        }
      });
      expect(seen).toEqual({ sync: 65, followUp: 65, announce: 5, delayResp: 64, delayReq: 64 });
    });
  });

  it('derives distinct EUI-64 identities from MAC-like seeds and rejects bad options by name', () => {
    const net = virtualPtpNetwork();
    const a = new Grandmaster(net.host('10.67.120.11'));
    const b = new Grandmaster(net.host('10.67.120.12'));
    expect(a.identity).toMatch(/^02[0-9a-f]{4}\.fffe\.[0-9a-f]{6}$/);
    expect(a.identity).not.toBe(b.identity);
    expect(macFromSeed('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
    a.close();
    b.close();
    const h = net.host('10.67.120.13');
    expect(() => new Grandmaster(h, { priority1: 256 })).toThrow(/priority1 must be an integer 0\.\.255, got 256/);
    expect(() => new Grandmaster(h, { profile: 'dante' as never })).toThrow(/profile must be one of aes67, ravenna/);
    expect(() => new Grandmaster(h, { clockIdentity: 'nope' })).toThrow(/clockIdentity/);
    expect(() => new Grandmaster(h, { script: [{ atNs: 0, kind: 'follow-up', mode: 'late' }] })).toThrow(/lateNs/);
    expect(() => new Grandmaster(h, { script: [{ atNs: 0, kind: 'frequency', ppm: NaN }] })).toThrow(/ppm/);
  });
});

describe('two grandmasters on one network', () => {
  function pair(a: GrandmasterOptions, b: GrandmasterOptions, seconds: number) {
    const net = virtualPtpNetwork();
    const gmA = new Grandmaster(net.host('10.67.120.1'), a);
    const gmB = new Grandmaster(net.host('10.67.120.2'), b);
    runVirtual([gmA, gmB], net.network, net.clock, { untilNs: seconds * S });
    gmA.close();
    gmB.close();
    const sent = (host: string, type: string) => net.tapped.filter((t) => t.source.startsWith(`${host}:`) && t.ptp?.type === type).map((t) => t.sentAt / S);
    return { gmA, gmB, sent };
  }

  it('the worse one falls silent once it has heard two Announces of the better, and takes over when the better one dies', () => {
    // B starts 0.5 s late, so A's announces reach it at 0.5 + k x 2 s... A has priority1 100 < 128.
    const { gmA, gmB, sent } = pair({ priority1: 100, script: [{ atNs: 10.2 * S, kind: 'silence' }] }, { priority1: 128 }, 24);
    // A's Announces at 0 and 2 s qualify it (2 within 4 intervals): B yields on hearing
    // the second, just after its own Announce and Sync of t = 2 s left.
    const bAnnounce = sent('10.67.120.2', 'announce');
    const bSync = sent('10.67.120.2', 'sync');
    expect(bAnnounce.filter((t) => t < 10.2)).toEqual([0, 2]);
    expect(bSync.filter((t) => t > 2 && t < 10.2)).toEqual([]);
    // A's last Announce is at 10 s; B waits announceReceiptTimeout (3) x 2 s and resumes.
    const resumed = bAnnounce.find((t) => t > 10.2)!;
    expect(resumed).toBeGreaterThan(16);
    expect(resumed).toBeLessThan(16.001);
    expect(gmB.counts).toMatchObject({ becamePassive: 1, becameMaster: 1 });
    expect(gmA.counts.becamePassive).toBe(0);
  });

  it('with masterOnly both keep sending (the slave must choose), and a priority change flips which one yields', () => {
    const both = pair({ priority1: 100, masterOnly: true }, { priority1: 128, masterOnly: true }, 6);
    expect(both.sent('10.67.120.1', 'announce')).toEqual([0, 2, 4, 6]);
    expect(both.sent('10.67.120.2', 'announce')).toEqual([0, 2, 4, 6]);
    // A (100) silences B (128) at 2 s. At 5 s A drops to 200: B's last two Announces (0, 2 s)
    // are still a qualified record (§9.3.2.4.5, within 4 intervals), so A yields to a B that
    // is itself silent. Nobody announces until that record times out (2 s + 3 x 2 s): A
    // returns, B hears it is now better, and A yields for good. ptp4l's foreign-master
    // records age the same way, so the 3 s without a master is what the standard gives.
    const flip = pair({ priority1: 100, script: [{ atNs: 5 * S, kind: 'priority', priority1: 200 }] }, { priority1: 128 }, 14);
    const announces = (host: string) => flip.sent(host, 'announce').map((t) => Math.round(t * 1e4) / 1e4);
    expect(announces('10.67.120.1')).toEqual([0, 2, 4, 8.0001, 10.0001]);
    expect(announces('10.67.120.2')).toEqual([0, 2, 8.0001, 10.0001, 12.0001, 14.0001].filter((t) => t <= 14));
    expect(flip.gmB.counts).toMatchObject({ becamePassive: 1, becameMaster: 1 });
    expect(flip.gmA.counts).toMatchObject({ becamePassive: 2, becameMaster: 1 });
    expect(flip.gmA.state).toBe('passive');
    expect(flip.gmB.state).toBe('master');
  });
});

// On real sockets a two-step Sync's time is the kernel's (see grandmaster.ts): sockets here
// stand in for the UDP transport's, with the kernel's transmit stamps scripted, so the
// grandmaster's choice of stamp is checked exactly, and what it asks of the socket.
describe('grandmaster emulator on real sockets: where the Follow_Up time comes from', () => {
  function realSockets(stamps: (number | null)[], options: GrandmasterOptions = {}) {
    const clock = { now: 5 * S };
    const opened: { options: Parameters<LabTransport['open']>[0]; sent: { data: Uint8Array; at: number }[]; stampAsks: number[] }[] = [];
    const transport: LabTransport = {
      kind: 'udp',
      address: GM,
      now: () => clock.now,
      open(options) {
        const socket = { options, sent: [] as { data: Uint8Array; at: number }[], stampAsks: [] as number[] };
        opened.push(socket);
        return {
          send: (_to: string, data: Uint8Array) => void socket.sent.push({ data: data.slice(), at: clock.now }),
          receive: () => null,
          join: () => {},
          leave: () => {},
          localEndpoint: () => `${GM}:${options?.port ?? 0}`,
          receiveOverflows: () => 0,
          lastTransmitTime: (timeoutNs?: number) => {
            socket.stampAsks.push(timeoutNs ?? 0);
            return stamps.length > 0 ? stamps.shift()! : null;
          },
          close: () => {},
        };
      },
    };
    const gm = new Grandmaster(transport, options);
    const [event, general] = opened;
    const followUps = () => general.sent.map((s) => parsePtp(s.data)).flatMap((r) => (r.ok && r.message.type === 'followUp' ? [r.message] : []));
    return { clock, gm, event, general, followUps };
  }

  it('asks for kernel transmit stamps without multicast loop, as ptp4l does, and sends the stamp it gets (Linux; elsewhere the looped-back copy)', () => {
    // Sync 0: the stamp is there as send() returns. Sync 1: not yet (asked after the send and
    // again at the end of that poll), then at the next poll.
    const { clock, gm, event, followUps } = realSockets([5 * S + 7_000, null, null, 5 * S + S / 8 + 3_000]);
    if (process.platform !== 'linux') {
      // No SO_TIMESTAMPING: our own Sync looped back is the stamp.
      expect(event.options).toMatchObject({ port: PTP_EVENT_PORT, transmitTimestamps: false, multicastLoop: true });
      gm.close();
      return;
    }
    expect(event.options).toMatchObject({ port: PTP_EVENT_PORT, transmitTimestamps: true, multicastLoop: false });
    gm.poll(clock.now);
    expect(followUps().map((f) => f.preciseOriginTimestamp)).toEqual([gm.timescale.ptpTimeAt(5 * S + 7_000)]);
    clock.now = 5 * S + S / 8;
    gm.poll(clock.now);
    expect(followUps().length).toBe(1);
    clock.now += 1_000_000;
    gm.poll(clock.now);
    expect(followUps().map((f) => [f.sequenceId, f.preciseOriginTimestamp])).toEqual([
      [0, gm.timescale.ptpTimeAt(5 * S + 7_000)],
      [1, gm.timescale.ptpTimeAt(5 * S + S / 8 + 3_000)],
    ]);
    // Never waits in the kernel: every ask is non-blocking.
    expect(new Set(event.stampAsks)).toEqual(new Set([0]));
    expect(gm.counts).toMatchObject({ sync: 2, kernelStamps: 2, loopbackStamps: 0, afterSendStamps: 0 });
    gm.close();
  });

  it('a Sync whose stamp does not come within 20 ms gets the time read after send()', () => {
    const { clock, gm, event, followUps } = realSockets([]);
    gm.poll(clock.now);
    const sentAt = event.sent[0].at;
    clock.now += 19_999_999;
    gm.poll(clock.now);
    expect(followUps()).toEqual([]);
    clock.now += 1;
    gm.poll(clock.now);
    expect(followUps().map((f) => f.preciseOriginTimestamp)).toEqual([gm.timescale.ptpTimeAt(sentAt)]);
    expect(gm.counts).toMatchObject({ kernelStamps: 0, afterSendStamps: 1 });
    gm.close();
  });

  it('one-step Syncs need no transmit stamp: the socket does not ask for them', () => {
    const { gm, event } = realSockets([], { twoStep: false });
    expect(event.options?.transmitTimestamps).toBe(false);
    gm.close();
  });
});
