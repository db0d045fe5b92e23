// An emulated PTP grandmaster (IEEE 1588-2008 ordinary clock, master side, E2E) on a
// LabTransport: Announce, Sync (two-step with Follow_Up, or one-step), Delay_Resp, with the
// AES67 media profile's defaults, and scripted misbehaviour (time steps, frequency offset,
// failover, late or missing Follow_Up, clock class and priority changes). Its PTP time is a
// PtpTimescale that senders read, so their RTP timestamps follow the same clock.
//
// Time stamps are software ones, taken where they are closest to the wire:
// - Delay_Req receive: the datagram's receivedAt (the kernel's SO_TIMESTAMPNS on real
//   sockets; exact in virtual time).
// - Two-step Sync on real sockets (Linux): the kernel's software transmit stamp
//   (SO_TIMESTAMPING, taken where the driver transmits), as ptp4l's `time_stamping software`
//   takes it, with multicast loop off as ptp4l has it; the Follow_Up carries it. Elsewhere:
//   the kernel's receive stamp of our own Sync looped back by IP_MULTICAST_LOOP (PTPd's
//   trick), taken in the send path before the datagram reaches the driver. If neither comes
//   within 20 ms, the time read right after send() returned. Measured on veth with ptp4l and
//   tshark busy on 2 cores: a stamp read in user space just before send() was 20-90 µs early
//   and one right after 20-90 µs late (the send call does the receiver's work and gets
//   preempted). The looped copy's stamp is early too: a free-running ptp4l slave following
//   us measured +6.7 µs offset and +7.2 µs path delay more than following a ptp4l
//   grandmaster on the same link; with the kernel's transmit stamp, +0.7 and +0.05 µs
//   (ptp4l-grandmaster.test.ts checks it).
// - One-step Sync: the time is in the Sync itself, so it is read just before send(), with
//   the message already serialized; expect tens of µs of error on a busy host.
// In virtual time every stamp is exact: the virtual clock at the moment of sending.
import { createHash } from 'node:crypto';
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';
import {
  clockIdentityFromMac,
  formatClockIdentity,
  LOG_INTERVAL_NONE,
  logIntervalNs,
  parseClockIdentity,
  parsePtp,
  patchPtpTimestamp,
  ptpFlags,
  ptpHeader,
  PTP_EVENT_PORT,
  PTP_GENERAL_PORT,
  PTP_PRIMARY_GROUP,
  serializePtp,
  type AnnounceMessage,
  type DelayReqMessage,
  type PortIdentity,
  type PtpMessage,
  type PtpMessageType,
  type PtpParseError,
} from '../net/ptp.ts';
import { compareDatasets, datasetOf, ownDataset, type ClockDataset } from './grandmaster-bmca.ts';
import { CURRENT_UTC_OFFSET, SteeredTimescale } from './grandmaster-timescale.ts';

export type PtpProfile = 'aes67' | 'ravenna';

/**
 * DSCP of event (319) and general (320) messages. AES67: EF 46 / AF41 34; RAVENNA: CS6 48
 * / EF 46 (FIELD-NOTES "AES67 / ST 2110-30 / PTP": linuxptp ptp4l.8, aes67-linux-daemon).
 */
export const PTP_DSCP: Record<PtpProfile, { event: number; general: number }> = {
  aes67: { event: 46, general: 34 },
  ravenna: { event: 48, general: 46 },
};

/** ptp4l's defaults for a clock without a reference (clockClass 248, accuracy unknown). */
export const TIME_SOURCE_INTERNAL_OSCILLATOR = 0xa0;

export interface GrandmasterConfig {
  domain: number;
  priority1: number;
  priority2: number;
  clockClass: number;
  clockAccuracy: number;
  offsetScaledLogVariance: number;
  timeSource: number;
  currentUtcOffset: number;
  currentUtcOffsetValid: boolean;
  ptpTimescale: boolean;
  timeTraceable: boolean;
  frequencyTraceable: boolean;
  /**
   * AES67 media profile defaults (AES67-2018 Annex A): announce 1, sync -3, delay_req -3,
   * timeout 3 (FIELD-NOTES "AES67 / ST 2110-30 / PTP": intervals outside the AES67 range
   * stopped lock with a QSC Core).
   */
  logAnnounceInterval: number;
  logSyncInterval: number;
  logMinDelayReqInterval: number;
  announceReceiptTimeout: number;
  twoStep: boolean;
  profile: PtpProfile;
  /** Never yield to a better master (ptp4l's masterOnly); otherwise go passive while one is heard. */
  masterOnly: boolean;
}

export const AES67_GRANDMASTER_DEFAULTS: GrandmasterConfig = {
  domain: 0,
  priority1: 128,
  priority2: 128,
  clockClass: 248,
  clockAccuracy: 0xfe,
  offsetScaledLogVariance: 0xffff,
  timeSource: TIME_SOURCE_INTERNAL_OSCILLATOR,
  currentUtcOffset: CURRENT_UTC_OFFSET,
  currentUtcOffsetValid: true,
  ptpTimescale: true,
  timeTraceable: false,
  frequencyTraceable: false,
  logAnnounceInterval: 1,
  logSyncInterval: -3,
  logMinDelayReqInterval: -3,
  announceReceiptTimeout: 3,
  twoStep: true,
  profile: 'aes67',
  masterOnly: false,
};

/** What a script can make the grandmaster do. */
export type GrandmasterAction =
  | { kind: 'step'; ns: number }
  | { kind: 'frequency'; ppm: number }
  | { kind: 'stop-announcing' }
  | { kind: 'resume-announcing' }
  /** Stop sending anything and answering Delay_Req (a grandmaster that died). */
  | { kind: 'silence' }
  | { kind: 'resume' }
  | { kind: 'follow-up'; mode: 'normal' | 'missing' | 'late'; lateNs?: number }
  | { kind: 'clock-class'; clockClass: number }
  | { kind: 'priority'; priority1?: number; priority2?: number };

/** An action at `atNs` nanoseconds after the grandmaster started. */
export type GrandmasterEvent = GrandmasterAction & { atNs: number };

export interface GrandmasterOptions extends Partial<GrandmasterConfig> {
  /** A MAC ("02:00:..") or any text (hashed into a locally administered MAC); default the transport's address. */
  identitySeed?: string;
  /** The clock identity itself (any form parseClockIdentity reads); overrides identitySeed. */
  clockIdentity?: string;
  /** The base PTP time (default: linearTimescale()); scripted steps and drift are applied on top. */
  timescale?: PtpTimescale;
  script?: GrandmasterEvent[];
  /** Told of every scripted action and state change as it happens (local time); for logs. */
  onChange?: (what: string, atLocal: number) => void;
}

export interface GrandmasterCounts {
  announce: number;
  sync: number;
  followUp: number;
  delayResp: number;
  delayReqReceived: number;
  foreignAnnounce: number;
  /** Times it yielded to a better master and came back. */
  becamePassive: number;
  becameMaster: number;
  /** Received messages set aside, by reason. */
  ignored: Record<string, number>;
  /** Received datagrams that were not PTPv2 messages, by the codec's reason. */
  malformed: Partial<Record<PtpParseError, number>>;
  sendFailures: number;
  /** Two-step Syncs stamped by the kernel's transmit stamp, by their looped-back copy, and by the time after send() (real sockets). */
  kernelStamps: number;
  loopbackStamps: number;
  afterSendStamps: number;
}

/**
 * A MAC from any text: itself when it is one; else 02 (locally administered, unicast) and
 * five bytes of its SHA-256, so distinct seeds give distinct identities.
 */
export function macFromSeed(seed: string): string {
  if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(seed)) return seed.toLowerCase().replace(/-/g, ':');
  const h = createHash('sha256').update(seed).digest();
  return ['02', ...Array.from(h.subarray(0, 5), (x) => x.toString(16).padStart(2, '0'))].join(':');
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`grandmaster ${name} must be an integer ${min}..${max}, got ${v}`);
}

/** Checks a configuration; throws RangeError naming the field and what is allowed. */
export function validateGrandmasterConfig(c: GrandmasterConfig): void {
  checkInt('domain', c.domain, 0, 255);
  checkInt('priority1', c.priority1, 0, 255);
  checkInt('priority2', c.priority2, 0, 255);
  checkInt('clockClass', c.clockClass, 0, 255);
  checkInt('clockAccuracy', c.clockAccuracy, 0, 255);
  checkInt('offsetScaledLogVariance', c.offsetScaledLogVariance, 0, 0xffff);
  checkInt('timeSource', c.timeSource, 0, 255);
  checkInt('currentUtcOffset', c.currentUtcOffset, -32768, 32767);
  // 1 ms .. 64 s keeps every timer meaningful; AES67 allows -4..1 for sync, 0..4 announce.
  checkInt('logAnnounceInterval', c.logAnnounceInterval, -7, 6);
  checkInt('logSyncInterval', c.logSyncInterval, -7, 6);
  checkInt('logMinDelayReqInterval', c.logMinDelayReqInterval, -7, 6);
  checkInt('announceReceiptTimeout', c.announceReceiptTimeout, 2, 255);
  if (!(c.profile in PTP_DSCP)) throw new RangeError(`grandmaster profile must be one of ${Object.keys(PTP_DSCP).join(', ')}, got "${c.profile}"`);
}

/**
 * A grandmaster's configuration (the AES67 defaults under what `config` sets) and port
 * identity (`clockIdentity`, else one made from `identitySeed` or the host's address),
 * checked: what the TypeScript and the native grandmaster both start from.
 */
export function resolveGrandmaster(
  config: Partial<GrandmasterConfig>,
  clockIdentity: string | undefined,
  identitySeed: string | undefined,
  address: string,
): { config: GrandmasterConfig; portIdentity: PortIdentity } {
  const resolved = { ...AES67_GRANDMASTER_DEFAULTS, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) } as GrandmasterConfig;
  validateGrandmasterConfig(resolved);
  let id: string;
  if (clockIdentity !== undefined) {
    const parsed = parseClockIdentity(clockIdentity);
    if (!parsed) throw new RangeError(`grandmaster clockIdentity "${clockIdentity}" is not 8 hex octets (e.g. 020000.fffe.000001)`);
    id = parsed;
  } else id = clockIdentityFromMac(macFromSeed(identitySeed ?? address));
  return { config: resolved, portIdentity: { clockIdentity: id, portNumber: 1 } };
}

interface ForeignMaster {
  dataset: ClockDataset;
  /** Local receive times of its recent Announces (at most FOREIGN_MASTER_THRESHOLD kept). */
  receipts: number[];
  logAnnounceInterval: number;
}

const EVENT_DESTINATION = `${PTP_PRIMARY_GROUP}:${PTP_EVENT_PORT}`;
const GENERAL_DESTINATION = `${PTP_PRIMARY_GROUP}:${PTP_GENERAL_PORT}`;
/** How long a two-step Sync waits for its kernel or looped-back stamp before the after-send stamp is used. */
const STAMP_WAIT_NS = 20_000_000;

/** §9.3.2.4.5: a foreign master counts after 2 Announces within 4 announce intervals. */
const FOREIGN_MASTER_THRESHOLD = 2;
const FOREIGN_MASTER_TIME_WINDOW = 4;

export class Grandmaster implements TimedActor {
  /** Everything it does on its own is in nextDue() (syncs, announces, late Follow_Ups, script, passive timeout); the rest is datagrams. */
  readonly pollOn = 'due-or-delivery';
  readonly config: GrandmasterConfig;
  readonly portIdentity: PortIdentity;
  /** The grandmaster's PTP time, with every scripted step and frequency change applied. */
  readonly timescale: SteeredTimescale;
  readonly counts: GrandmasterCounts = {
    announce: 0,
    sync: 0,
    followUp: 0,
    delayResp: 0,
    delayReqReceived: 0,
    foreignAnnounce: 0,
    becamePassive: 0,
    becameMaster: 0,
    ignored: {},
    malformed: {},
    sendFailures: 0,
    kernelStamps: 0,
    loopbackStamps: 0,
    afterSendStamps: 0,
  };
  /** 'passive' while a better master is heard (unless masterOnly). */
  state: 'master' | 'passive' = 'master';

  private readonly event: DatagramSocket;
  private readonly general: DatagramSocket;
  /** Where a two-step Sync's time comes from (see the file comment). */
  private readonly stamping: 'exact' | 'kernel' | 'loopback';
  private readonly script: GrandmasterEvent[];
  private scriptIndex = 0;
  private startedAt: number | undefined;
  private nextAnnounce = 0;
  private nextSync = 0;
  private announceSeq = 0;
  private syncSeq = 0;
  private announcing = true;
  private silent = false;
  private followUpMode: 'normal' | 'missing' | 'late' = 'normal';
  private followUpLateNs = 0;
  private readonly lateFollowUps: { due: number; message: PtpMessage }[] = [];
  private readonly pendingSyncs: { seq: number; after: number }[] = [];
  private readonly foreign = new Map<string, ForeignMaster>();
  private closed = false;
  private readonly onChange?: (what: string, atLocal: number) => void;
  private readonly ownIdBytes: Uint8Array;

  constructor(
    private readonly transport: LabTransport,
    options: GrandmasterOptions = {},
  ) {
    const { identitySeed, clockIdentity, timescale, script, onChange, ...config } = options;
    this.onChange = onChange;
    ({ config: this.config, portIdentity: this.portIdentity } = resolveGrandmaster(config, clockIdentity, identitySeed, transport.address));
    const id = this.portIdentity.clockIdentity;
    this.ownIdBytes = Uint8Array.from({ length: 8 }, (_, i) => parseInt(id.slice(2 * i, 2 * i + 2), 16));
    this.timescale = new SteeredTimescale(timescale ?? linearTimescale());
    this.script = [...(script ?? [])].sort((a, b) => a.atNs - b.atNs);
    for (const e of this.script) this.checkAction(e);
    const dscp = PTP_DSCP[this.config.profile];
    this.stamping = transport.kind === 'virtual' ? 'exact' : process.platform === 'linux' && this.config.twoStep ? 'kernel' : 'loopback';
    const kernel = this.stamping === 'kernel';
    // With kernel stamps the loop is off on both sockets, as ptp4l has it.
    this.event = transport.open({ port: PTP_EVENT_PORT, dscp: dscp.event, transmitTimestamps: kernel, multicastLoop: !kernel });
    try {
      this.general = transport.open({ port: PTP_GENERAL_PORT, dscp: dscp.general, multicastLoop: !kernel });
    } catch (e) {
      this.event.close();
      throw e;
    }
    this.event.join(PTP_PRIMARY_GROUP);
    this.general.join(PTP_PRIMARY_GROUP);
  }

  /** The clock identity as ptp4l prints it ("xxxxxx.fffe.xxxxxx"). */
  get identity(): string {
    return formatClockIdentity(this.portIdentity.clockIdentity);
  }

  /** Our own data set, as our Announce states it now. */
  get dataset(): ClockDataset {
    return ownDataset(this.config, this.portIdentity);
  }

  poll(now: number): number {
    if (this.closed) return Infinity;
    if (this.startedAt === undefined) {
      this.startedAt = now;
      this.nextAnnounce = now;
      this.nextSync = now;
    }
    this.runScript(now);
    this.receive();
    this.updateState(now);
    const active = this.state === 'master' && !this.silent;
    // Sync before Announce when both are due: a Sync queued behind an Announce on a software
    // path reaches the slave later than its time stamp says (measured: ~20 µs on veth).
    if (active && now >= this.nextSync) {
      this.sendSync();
      this.nextSync = this.advance(this.nextSync, logIntervalNs(this.config.logSyncInterval), now);
    }
    if (active && this.announcing && now >= this.nextAnnounce) {
      this.sendAnnounce();
      this.nextAnnounce = this.advance(this.nextAnnounce, logIntervalNs(this.config.logAnnounceInterval), now);
    }
    if (this.stamping === 'kernel') this.takeKernelStamp();
    this.expirePendingSyncs(now);
    while (this.lateFollowUps.length > 0 && this.lateFollowUps[0].due <= now) {
      const f = this.lateFollowUps.shift()!;
      if (!this.silent) this.send(this.general, f.message);
    }
    return this.nextDue();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.event.close();
    this.general.close();
  }

  /** The next time on the grid after `due`; a late poll skips missed slots rather than bursting. */
  private advance(due: number, interval: number, now: number): number {
    const next = due + interval;
    return next > now ? next : now + interval - ((now - due) % interval);
  }

  private nextDue(): number {
    let next = Infinity;
    if (this.state === 'master' && !this.silent) {
      next = this.nextSync;
      if (this.announcing) next = Math.min(next, this.nextAnnounce);
    }
    if (this.lateFollowUps.length > 0) next = Math.min(next, this.lateFollowUps[0].due);
    if (this.pendingSyncs.length > 0) next = Math.min(next, this.pendingSyncs[0].after + STAMP_WAIT_NS);
    if (this.scriptIndex < this.script.length) next = Math.min(next, this.startedAt! + this.script[this.scriptIndex].atNs);
    if (this.state === 'passive') next = Math.min(next, this.passiveUntil());
    return next;
  }

  private checkAction(e: GrandmasterEvent): void {
    if (!Number.isFinite(e.atNs) || e.atNs < 0) throw new RangeError(`grandmaster script: atNs must be >= 0, got ${e.atNs}`);
    switch (e.kind) {
      case 'step':
        if (!Number.isFinite(e.ns)) throw new RangeError(`grandmaster script: step needs ns, got ${e.ns}`);
        break;
      case 'frequency':
        if (!Number.isFinite(e.ppm) || Math.abs(e.ppm) > 1e5) throw new RangeError(`grandmaster script: frequency ppm must be within ±100000, got ${e.ppm}`);
        break;
      case 'follow-up':
        if (!['normal', 'missing', 'late'].includes(e.mode)) throw new RangeError(`grandmaster script: follow-up mode must be normal, missing or late, got "${e.mode}"`);
        if (e.mode === 'late' && !(Number.isFinite(e.lateNs) && e.lateNs! > 0)) throw new RangeError(`grandmaster script: a late follow-up needs lateNs > 0, got ${e.lateNs}`);
        break;
      case 'clock-class':
        checkInt('clockClass', e.clockClass, 0, 255);
        break;
      case 'priority':
        if (e.priority1 === undefined && e.priority2 === undefined) throw new RangeError('grandmaster script: priority needs priority1 or priority2');
        if (e.priority1 !== undefined) checkInt('priority1', e.priority1, 0, 255);
        if (e.priority2 !== undefined) checkInt('priority2', e.priority2, 0, 255);
        break;
      case 'stop-announcing':
      case 'resume-announcing':
      case 'silence':
      case 'resume':
        break;
      default:
        throw new RangeError(`grandmaster script: unknown action "${(e as { kind: string }).kind}"`);
    }
  }

  private runScript(now: number): void {
    while (this.scriptIndex < this.script.length && this.startedAt! + this.script[this.scriptIndex].atNs <= now) {
      const e = this.script[this.scriptIndex++];
      const at = this.startedAt! + e.atNs;
      const { atNs: _, kind, ...args } = e;
      this.onChange?.(`${kind}${Object.keys(args).length ? ` ${JSON.stringify(args)}` : ''}`, now);
      switch (e.kind) {
        case 'step':
          this.timescale.step(at, e.ns);
          break;
        case 'frequency':
          this.timescale.setFrequency(at, e.ppm);
          break;
        case 'stop-announcing':
          this.announcing = false;
          break;
        case 'resume-announcing':
          if (!this.announcing) this.nextAnnounce = now;
          this.announcing = true;
          break;
        case 'silence':
          this.silent = true;
          this.lateFollowUps.length = 0;
          this.pendingSyncs.length = 0;
          break;
        case 'resume':
          if (this.silent) this.nextAnnounce = this.nextSync = now;
          this.silent = false;
          break;
        case 'follow-up':
          this.followUpMode = e.mode;
          this.followUpLateNs = e.lateNs ?? 0;
          break;
        case 'clock-class':
          this.config.clockClass = e.clockClass;
          break;
        case 'priority':
          if (e.priority1 !== undefined) this.config.priority1 = e.priority1;
          if (e.priority2 !== undefined) this.config.priority2 = e.priority2;
          break;
      }
    }
  }

  private ignore(reason: string): void {
    this.counts.ignored[reason] = (this.counts.ignored[reason] ?? 0) + 1;
  }

  private receive(): void {
    // Bounded per poll: a flood cannot keep us from sending.
    for (let i = 0; i < 1000; i++) {
      const d = this.event.receive();
      if (!d) break;
      if (this.stamping === 'loopback' && this.pendingSyncs.length > 0 && this.isOwnSync(d.data)) {
        this.ownSyncSeen((d.data[30] << 8) | d.data[31], d.receivedAt);
        continue;
      }
      const m = this.accept(d.data);
      if (!m) continue;
      if (m.type === 'delayReq') this.answer(m, d.receivedAt);
      else this.ignore(`event-${m.type}`);
    }
    for (let i = 0; i < 1000; i++) {
      const d = this.general.receive();
      if (!d) break;
      const m = this.accept(d.data);
      if (!m) continue;
      if (m.type === 'announce') this.hearAnnounce(m, d.receivedAt);
      else this.ignore(`general-${m.type}`);
    }
  }

  /** Our own Sync (type 0, our clock identity), checked on the bytes: this is on the time-stamp path. */
  private isOwnSync(b: Uint8Array): boolean {
    if (b.length < 44 || (b[0] & 0x0f) !== 0 || (b[1] & 0x0f) !== 2) return false;
    const id = this.ownIdBytes;
    for (let i = 0; i < 8; i++) if (b[20 + i] !== id[i]) return false;
    return true;
  }

  /** A parsed message of our domain from someone else, or undefined (counted). */
  private accept(data: Uint8Array): PtpMessage | undefined {
    const r = parsePtp(data);
    if (!r.ok) {
      this.counts.malformed[r.reason] = (this.counts.malformed[r.reason] ?? 0) + 1;
      return undefined;
    }
    const m = r.message;
    if (m.sourcePortIdentity.clockIdentity === this.portIdentity.clockIdentity) return void this.ignore('own');
    if (m.domain !== this.config.domain) return void this.ignore('other-domain');
    return m;
  }

  private answer(req: DelayReqMessage, receivedAt: number): void {
    this.counts.delayReqReceived++;
    if (this.state !== 'master' || this.silent) return this.ignore('delay-req-while-not-master');
    // §11.3.2: t4 from our receive time stamp; correctionField carried over from the request.
    this.send(this.general, {
      ...ptpHeader('delayResp', {
        sourcePortIdentity: this.portIdentity,
        domain: this.config.domain,
        sequenceId: req.sequenceId,
        correction: req.correction,
        logMessageInterval: this.config.logMinDelayReqInterval,
        majorSdoId: req.majorSdoId,
      }),
      type: 'delayResp',
      tlvs: [],
      receiveTimestamp: this.timescale.ptpTimeAt(receivedAt),
      requestingPortIdentity: req.sourcePortIdentity,
    });
  }

  private hearAnnounce(a: AnnounceMessage, receivedAt: number): void {
    this.counts.foreignAnnounce++;
    const key = `${a.sourcePortIdentity.clockIdentity}-${a.sourcePortIdentity.portNumber}`;
    let f = this.foreign.get(key);
    if (!f) {
      // Bounded: the oldest foreign master makes room (a network has a handful).
      if (this.foreign.size >= 16) this.foreign.delete(this.foreign.keys().next().value!);
      this.foreign.set(key, (f = { dataset: datasetOf(a), receipts: [], logAnnounceInterval: a.logMessageInterval }));
    }
    f.dataset = datasetOf(a);
    f.logAnnounceInterval = a.logMessageInterval === LOG_INTERVAL_NONE ? this.config.logAnnounceInterval : a.logMessageInterval;
    f.receipts.push(receivedAt);
    if (f.receipts.length > FOREIGN_MASTER_THRESHOLD) f.receipts.shift();
  }

  /** The best qualified foreign master that beats us, or undefined. */
  private betterForeignMaster(now: number): ForeignMaster | undefined {
    let best: ForeignMaster | undefined;
    for (const [key, f] of this.foreign) {
      const interval = logIntervalNs(Math.max(-7, Math.min(6, f.logAnnounceInterval)));
      const last = f.receipts[f.receipts.length - 1];
      if (now - last > this.config.announceReceiptTimeout * interval) {
        this.foreign.delete(key);
        continue;
      }
      const qualified = f.receipts.length >= FOREIGN_MASTER_THRESHOLD && now - f.receipts[0] <= FOREIGN_MASTER_TIME_WINDOW * interval;
      if (qualified && compareDatasets(f.dataset, this.dataset) < 0 && (!best || compareDatasets(f.dataset, best.dataset) < 0)) best = f;
    }
    return best;
  }

  /** When the better master we yield to would time out. */
  private passiveUntil(): number {
    let until = Infinity;
    for (const f of this.foreign.values()) {
      const interval = logIntervalNs(Math.max(-7, Math.min(6, f.logAnnounceInterval)));
      until = Math.min(until, f.receipts[f.receipts.length - 1] + this.config.announceReceiptTimeout * interval + 1);
    }
    return until;
  }

  private updateState(now: number): void {
    if (this.config.masterOnly) return;
    const better = this.betterForeignMaster(now);
    if (better && this.state === 'master') {
      this.state = 'passive';
      this.counts.becamePassive++;
      this.pendingSyncs.length = 0;
      this.onChange?.(`passive: ${formatClockIdentity(better.dataset.grandmasterIdentity)} is better`, now);
      this.lateFollowUps.length = 0;
    } else if (!better && this.state === 'passive') {
      this.state = 'master';
      this.counts.becameMaster++;
      this.onChange?.('master: no better master heard', now);
      this.nextAnnounce = this.nextSync = now;
    }
  }

  private header(type: PtpMessageType, logMessageInterval: number, sequenceId: number, flags = ptpFlags()) {
    return ptpHeader(type, { sourcePortIdentity: this.portIdentity, domain: this.config.domain, sequenceId, logMessageInterval, flags });
  }

  private sendAnnounce(): void {
    const c = this.config;
    const flags = ptpFlags({
      ptpTimescale: c.ptpTimescale,
      currentUtcOffsetValid: c.currentUtcOffsetValid,
      timeTraceable: c.timeTraceable,
      frequencyTraceable: c.frequencyTraceable,
    });
    const seq = this.announceSeq;
    this.announceSeq = (this.announceSeq + 1) & 0xffff;
    this.counts.announce++;
    this.send(this.general, {
      ...this.header('announce', c.logAnnounceInterval, seq, flags),
      type: 'announce',
      tlvs: [],
      originTimestamp: this.timescale.ptpTimeAt(this.transport.now()),
      currentUtcOffset: c.currentUtcOffset,
      grandmasterPriority1: c.priority1,
      grandmasterClockQuality: { clockClass: c.clockClass, clockAccuracy: c.clockAccuracy, offsetScaledLogVariance: c.offsetScaledLogVariance },
      grandmasterPriority2: c.priority2,
      grandmasterIdentity: this.portIdentity.clockIdentity,
      stepsRemoved: 0,
      timeSource: c.timeSource,
    });
  }

  private sendSync(): void {
    const c = this.config;
    const seq = this.syncSeq;
    this.syncSeq = (this.syncSeq + 1) & 0xffff;
    this.counts.sync++;
    // Serialize first, stamp last (see the file comment).
    const estimate = this.timescale.ptpTimeAt(this.transport.now());
    const bytes = serializePtp({ ...this.header('sync', c.logSyncInterval, seq, ptpFlags({ twoStep: c.twoStep })), type: 'sync', tlvs: [], originTimestamp: estimate });
    if (!c.twoStep) {
      const origin = this.timescale.ptpTimeAt(this.transport.now());
      patchPtpTimestamp(bytes, origin);
      this.sendBytes(this.event, PTP_EVENT_PORT, bytes);
      return;
    }
    if (this.stamping === 'exact') {
      const sentAt = this.transport.now();
      this.sendBytes(this.event, PTP_EVENT_PORT, bytes);
      this.syncStamped(seq, sentAt);
      return;
    }
    this.sendBytes(this.event, PTP_EVENT_PORT, bytes);
    const after = this.transport.now();
    this.pendingSyncs.push({ seq, after });
    if (this.pendingSyncs.length > 16) this.pendingSyncs.shift();
    // Either stamp is usually there before send() returns: pick it up now.
    if (this.stamping === 'kernel') this.takeKernelStamp();
    else this.receive();
  }

  /** The kernel's transmit stamp, which comes for the last datagram sent only: the newest pending Sync. */
  private takeKernelStamp(): void {
    if (this.pendingSyncs.length === 0) return;
    const sentAt = this.event.lastTransmitTime(0);
    if (sentAt === null) return;
    const p = this.pendingSyncs.pop()!;
    this.counts.kernelStamps++;
    this.syncStamped(p.seq, sentAt);
  }

  /** The Sync `seq` left at local time `sentAt`: send (or schedule, or skip) its Follow_Up. */
  private syncStamped(seq: number, sentAt: number): void {
    if (this.followUpMode === 'missing' || this.silent) return;
    const c = this.config;
    const followUp: PtpMessage = { ...this.header('followUp', c.logSyncInterval, seq), type: 'followUp', tlvs: [], preciseOriginTimestamp: this.timescale.ptpTimeAt(sentAt) };
    if (this.followUpMode === 'late') {
      // Kept in due order: the lateness may change between Syncs.
      const due = sentAt + this.followUpLateNs;
      let i = this.lateFollowUps.length;
      while (i > 0 && this.lateFollowUps[i - 1].due > due) i--;
      this.lateFollowUps.splice(i, 0, { due, message: followUp });
    } else this.send(this.general, followUp);
  }

  /** Our own Sync came back by multicast loop: its receive stamp is when it went out. */
  private ownSyncSeen(seq: number, receivedAt: number): void {
    const i = this.pendingSyncs.findIndex((p) => p.seq === seq);
    if (i < 0) return;
    this.pendingSyncs.splice(i, 1);
    this.counts.loopbackStamps++;
    this.syncStamped(seq, receivedAt);
  }

  /** Syncs whose copy has not come back in time get the after-send() stamp. */
  private expirePendingSyncs(now: number): void {
    while (this.pendingSyncs.length > 0 && now - this.pendingSyncs[0].after >= STAMP_WAIT_NS) {
      const p = this.pendingSyncs.shift()!;
      this.counts.afterSendStamps++;
      this.syncStamped(p.seq, p.after);
    }
  }

  private send(socket: DatagramSocket, m: PtpMessage): void {
    if (m.type === 'followUp') this.counts.followUp++;
    if (m.type === 'delayResp') this.counts.delayResp++;
    this.sendBytes(socket, socket === this.event ? PTP_EVENT_PORT : PTP_GENERAL_PORT, serializePtp(m));
  }

  private sendBytes(socket: DatagramSocket, port: number, bytes: Uint8Array): void {
    try {
      socket.send(port === PTP_EVENT_PORT ? EVENT_DESTINATION : GENERAL_DESTINATION, bytes);
    } catch {
      // A real interface can refuse for a moment (no route, buffer full): count, carry on.
      this.counts.sendFailures++;
    }
  }
}
