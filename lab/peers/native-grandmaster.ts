// The lab's emulated PTP grandmaster in C++ for virtual-time runs
// (native/src/grandmaster_binding.cc): what lab/peers/grandmaster.ts Grandmaster sends and
// decides, byte for byte and at the same times, without a JavaScript call per message. It
// takes a grandmaster without a script on a linear PTP timescale (lab/net/ptp-timescale.ts
// linearTimescale, checked); scripted misbehaviour (steps, drift, silence, failover), state
// callbacks and real sockets stay with Grandmaster, which remains the live peer.
// native-grandmaster.test.ts runs both side by side.
import type { VirtualNetwork } from '../../native/index.ts';
import { loadNative } from '../../native/index.ts';
import type { NativeGrandmaster as NativeGm } from '../../native/grandmaster.ts';
import type { NativeActorHandle, NativeLinearTimescale } from '../../native/virtual-actors.ts';
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { formatClockIdentity, type PortIdentity } from '../net/ptp.ts';
import { ownDataset, type ClockDataset } from './grandmaster-bmca.ts';
import { PTP_DSCP, resolveGrandmaster, type GrandmasterConfig, type GrandmasterCounts, type GrandmasterOptions } from './grandmaster.ts';
import { SteeredTimescale } from './grandmaster-timescale.ts';
import { checkLinear } from './native-aes67-sender.ts';

export interface NativeGrandmasterOptions extends GrandmasterOptions {
  network: VirtualNetwork;
  /** `timescale` as linearTimescale's parameters (checked against it). */
  linear: NativeLinearTimescale;
}

export class NativeGrandmaster implements TimedActor {
  readonly pollOn = 'due-or-delivery';
  readonly native: NativeActorHandle;
  readonly config: GrandmasterConfig;
  readonly portIdentity: PortIdentity;
  /** Its PTP time: the linear timescale it was given (never steered: no script). */
  readonly timescale: SteeredTimescale;
  private readonly gm: NativeGm;

  constructor(transport: LabTransport, o: NativeGrandmasterOptions) {
    const { identitySeed, clockIdentity, timescale, script, onChange, network, linear, ...config } = o;
    if (script?.length) throw new Error('native-grandmaster: a script is not implemented natively; use Grandmaster');
    if (onChange) throw new Error('native-grandmaster: onChange is not implemented natively; use Grandmaster');
    if (transport.kind !== 'virtual') throw new Error('native-grandmaster: runs on the virtual network only; use Grandmaster');
    ({ config: this.config, portIdentity: this.portIdentity } = resolveGrandmaster(config, clockIdentity, identitySeed, transport.address));
    const id = this.portIdentity.clockIdentity;
    const base = timescale ?? linearTimescale();
    checkLinear(base, linear, 'native-grandmaster');
    this.timescale = new SteeredTimescale(base);
    const c = this.config;
    const dscp = PTP_DSCP[c.profile];
    this.gm = new (loadNative().NativeGrandmaster)(network, {
      host: transport.address,
      clockIdentity: Uint8Array.from({ length: 8 }, (_, i) => parseInt(id.slice(2 * i, 2 * i + 2), 16)),
      epochNs: linear.epochNs,
      ppm: linear.ppm,
      domain: c.domain,
      priority1: c.priority1,
      priority2: c.priority2,
      clockClass: c.clockClass,
      clockAccuracy: c.clockAccuracy,
      offsetScaledLogVariance: c.offsetScaledLogVariance,
      timeSource: c.timeSource,
      currentUtcOffset: c.currentUtcOffset,
      currentUtcOffsetValid: c.currentUtcOffsetValid,
      ptpTimescale: c.ptpTimescale,
      timeTraceable: c.timeTraceable,
      frequencyTraceable: c.frequencyTraceable,
      logAnnounceInterval: c.logAnnounceInterval,
      logSyncInterval: c.logSyncInterval,
      logMinDelayReqInterval: c.logMinDelayReqInterval,
      announceReceiptTimeout: c.announceReceiptTimeout,
      twoStep: c.twoStep,
      masterOnly: c.masterOnly,
      eventDscp: dscp.event,
      generalDscp: dscp.general,
    });
    this.native = this.gm.nativeActor();
  }

  /** 'passive' while a better master is heard (unless masterOnly). */
  get state(): 'master' | 'passive' {
    return this.gm.state();
  }

  get counts(): GrandmasterCounts {
    return this.gm.counts();
  }

  /** The clock identity as ptp4l prints it ("xxxxxx.fffe.xxxxxx"). */
  get identity(): string {
    return formatClockIdentity(this.portIdentity.clockIdentity);
  }

  /** Our own data set, as our Announce states it. */
  get dataset(): ClockDataset {
    return ownDataset(this.config, this.portIdentity);
  }

  poll(now: number): number {
    return this.gm.poll(now);
  }

  close(): void {
    this.gm.close();
  }
}
