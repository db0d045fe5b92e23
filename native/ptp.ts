// Types of the engine/ptp binding (native/src/ptp_binding.cc): the PTPv2 parser and
// writer, and the slave-only ordinary clock on the virtual network or a real interface.
import type { VirtualNetwork } from './index.ts';

export type NativePtpMessageType =
  | 'sync'
  | 'delay-req'
  | 'pdelay-req'
  | 'pdelay-resp'
  | 'follow-up'
  | 'delay-resp'
  | 'pdelay-resp-follow-up'
  | 'announce'
  | 'signaling'
  | 'management';

export type NativePtpParseError = 'truncated' | 'ptpv1-unsupported' | 'bad-version' | 'unknown-message-type' | 'bad-length' | 'bad-tlv';

export interface NativePtpTimestamp {
  /** 48-bit seconds (exact in a number). */
  seconds: number;
  nanoseconds: number;
}

export interface NativePortIdentity {
  /** As tshark prints it: 0x + 16 lower-case hex digits. */
  clockIdentity: string;
  portNumber: number;
}

export interface NativePtpAnnounce {
  currentUtcOffset: number;
  grandmasterPriority1: number;
  grandmasterClockClass: number;
  grandmasterClockAccuracy: number;
  grandmasterClockVariance: number;
  grandmasterPriority2: number;
  grandmasterIdentity: string;
  stepsRemoved: number;
  timeSource: number;
}

export interface NativePtpMessage {
  error?: undefined;
  messageType: NativePtpMessageType;
  messageTypeValue: number;
  transportSpecific: number;
  version: number;
  minorVersion: number;
  messageLength: number;
  domain: number;
  minorSdoId: number;
  /** flagField, octet 0 in the high byte (as tshark's ptp.v2.flags). */
  flags: number;
  flagBits: {
    alternateMaster: boolean;
    twoStep: boolean;
    unicast: boolean;
    profileSpecific1: boolean;
    profileSpecific2: boolean;
    leap61: boolean;
    leap59: boolean;
    currentUtcOffsetValid: boolean;
    ptpTimescale: boolean;
    timeTraceable: boolean;
    frequencyTraceable: boolean;
  };
  /** correctionField: nanoseconds x 2^16. */
  correction: bigint;
  messageTypeSpecific: number;
  sourcePortIdentity: NativePortIdentity;
  sequenceId: number;
  control: number;
  logMessageInterval: number;
  originTimestamp?: NativePtpTimestamp;
  preciseOriginTimestamp?: NativePtpTimestamp;
  receiveTimestamp?: NativePtpTimestamp;
  requestReceiptTimestamp?: NativePtpTimestamp;
  responseOriginTimestamp?: NativePtpTimestamp;
  requestingPortIdentity?: NativePortIdentity;
  targetPortIdentity?: NativePortIdentity;
  announce?: NativePtpAnnounce;
  management?: { startingBoundaryHops: number; boundaryHops: number; actionField: number };
  /** Whatever follows the fixed body within messageLength. */
  tlvs: Buffer;
  tlvCount: number;
}

export type NativePtpParse = { error: NativePtpParseError; version: number } | NativePtpMessage;

/** What serializePtp takes: parsePtp's shape, every field but messageType optional. */
export type NativePtpMessageInput = Partial<Omit<NativePtpMessage, 'messageType' | 'error' | 'tlvs' | 'flagBits' | 'messageTypeValue' | 'messageLength' | 'tlvCount'>> & {
  messageType: NativePtpMessageType | number;
  tlvs?: Uint8Array;
};

export interface PtpServoOptions {
  stepThresholdNs?: number;
  stepConfirmSamples?: number;
  acquisitionSamples?: number;
  lockThresholdNs?: number;
  lockSamples?: number;
  lockOutliers?: number;
  unlockThresholdNs?: number;
  /** Spikes (offsets beyond unlockThresholdNs) within the last unlockWindowSamples that unlock. */
  unlockSpikes?: number;
  unlockWindowSamples?: number;
  stableRmsNs?: number;
  stableSamples?: number;
  sampleTimeoutNs?: number;
  /** PI constants (0: from the sync interval, as linuxptp's hardware defaults). */
  kp?: number;
  ki?: number;
}

export type PtpTransmitStampName = 'kernel' | 'loopback' | 'before' | 'after';

export interface PtpSlaveOptions {
  /** 0-127. */
  domain?: number;
  /** Our clock identity; default: from the interface's MAC (or the host address). */
  clockIdentity?: string;
  announceReceiptTimeout?: number;
  logMinDelayReqInterval?: number;
  seed?: number;
  eventPort?: number;
  generalPort?: number;
  eventDscp?: number;
  generalDscp?: number;
  /** Where Delay_Req go (default 224.0.1.129, which is also joined). */
  destination?: string;
  bindAddress?: string;
  /**
   * Delay_Req transmit time: the kernel's software transmit stamp (default on an interface),
   * the kernel stamp of our looped-back copy, or the clock before/after the send (default on
   * the virtual network: 'after', exact there).
   */
  transmitStamp?: PtpTransmitStampName;
  servo?: PtpServoOptions;
}

export type PtpServoStateName = 'unlocked' | 'stepping' | 'locked' | 'locked-stable';

export interface PtpMasterDataset {
  /** As ptp4l prints it: xxxxxx.xxxx.xxxxxx. */
  grandmasterIdentity: string;
  priority1: number;
  clockClass: number;
  clockAccuracy: number;
  offsetScaledLogVariance: number;
  priority2: number;
  stepsRemoved: number;
  /** The master's port, as ptp4l prints it: xxxxxx.xxxx.xxxxxx-N. */
  portIdentity: string;
}

export interface PtpSlaveStatus {
  clockIdentity: string;
  portState: 'LISTENING' | 'UNCALIBRATED' | 'SLAVE';
  servoState: PtpServoStateName;
  /** ptp4l's s0/s1/s2 (s3: locked-stable). */
  servoShort: 's0' | 's1' | 's2' | 's3';
  locked: boolean;
  grandmaster: string | null;
  parent: PtpMasterDataset | null;
  hasOffset: boolean;
  offsetNs: number;
  pathDelayNs: number;
  frequencyPpb: number;
  /** The offsets' measurement noise the servo saw (a standard deviation, ns; engine/ptp/ptp_servo.hpp). */
  measurementNoiseNs: number;
  /** The lock window (ns) that noise gave. */
  lockWindowNs: number;
  /** The factor the servo's kp was last scaled by for that noise (ki by its square): 1 pulling in or on quiet stamps. */
  gainScale: number;
  /** Local time the current lock began, or null. */
  lockedSince: number | null;
  logMinDelayReqInterval: number;
  transmitStamp: PtpTransmitStampName;
  counters: {
    datagrams: number;
    messages: Record<NativePtpMessageType, number>;
    malformed: Record<NativePtpParseError, number>;
    ptpv1: number;
    dropped: Record<string, number>;
    syncSamples: number;
    delaySamples: number;
    syncWithoutFollowUp: number;
    delayRespMissing: number;
    delayReqSent: number;
    announceTimeouts: number;
    parentChanges: number;
    grandmasterChanges: number;
    servoSamples: number;
    steps: number;
    locks: number;
    lockLosses: number;
    spikes: number;
    sampleTimeouts: number;
    delayAccepted: number;
    delayRejected: number;
    sendFailures: number;
    loopbackTransmitStamps: number;
    transmitStampFallbacks: number;
  };
  foreignMasters: PtpMasterDataset[];
}

export interface PtpOffsetRecord {
  /** Local time the Sync arrived. */
  at: number;
  offsetNs: number;
  pathDelayNs: number;
  frequencyPpb: number;
  state: PtpServoStateName;
  stateShort: 's0' | 's1' | 's2' | 's3';
  locked: boolean;
}

export interface NativePtpMediaClock {
  sampleAt(localNs: number): number;
  localTimeOf(sample: number): number;
  rtpTimestampAt(localNs: number): number;
  driftPpm(): number;
  rateScalar(): number;
}

export interface NativePtpSlave {
  /** Handles what arrived, runs timers, sends what is due; returns the local time it next wants to run. */
  poll(): number;
  /** Local time (virtual, or CLOCK_MONOTONIC ns on real sockets). */
  now(): number;
  status(): PtpSlaveStatus;
  /** Offset records since the last call, oldest first. */
  records(): PtpOffsetRecord[];
  /** PTP nanoseconds at a local time, through the servo's mapping. */
  ptpTimeAt(localNs: number | bigint): bigint;
  /** Real sockets only: PTP time now minus CLOCK_REALTIME now (ns). */
  systemClockOffset(): number;
  mediaClock(rate?: number, mediaclkOffset?: number): NativePtpMediaClock;
  close(): void;
}

export interface PtpAddon {
  parsePtp(data: Uint8Array): NativePtpParse;
  serializePtp(message: NativePtpMessageInput): Buffer;
  PtpSlave: new (options: ({ network: VirtualNetwork; host: string } | { interface: string }) & PtpSlaveOptions) => NativePtpSlave;
}
