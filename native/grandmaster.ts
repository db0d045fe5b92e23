// Types of native/src/grandmaster_binding.cc: the lab's emulated PTP grandmaster in C++ for
// virtual-time runs (lab/peers/native-grandmaster.ts wraps it as a TimedActor).
import type { VirtualNetwork } from './index.ts';
import type { NativeActorHandle, NativeLinearTimescale } from './virtual-actors.ts';

export interface NativeGrandmasterConfig extends NativeLinearTimescale {
  /** The virtual host it runs on (its own). */
  host: string;
  clockIdentity: Uint8Array;
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
  logAnnounceInterval: number;
  logSyncInterval: number;
  logMinDelayReqInterval: number;
  announceReceiptTimeout: number;
  twoStep: boolean;
  masterOnly: boolean;
  eventDscp: number;
  generalDscp: number;
}

export interface NativeGrandmaster {
  poll(now: number): number;
  nativeActor(): NativeActorHandle;
  state(): 'master' | 'passive';
  /** lab/peers/grandmaster.ts GrandmasterCounts. */
  counts(): import('../lab/peers/grandmaster.ts').GrandmasterCounts;
  close(): void;
}

export interface GrandmasterAddon {
  NativeGrandmaster: new (network: VirtualNetwork, config: NativeGrandmasterConfig) => NativeGrandmaster;
}
