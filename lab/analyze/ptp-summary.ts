// PTP seen in a capture: message counts and rates against their advertised log intervals,
// grandmasters and changes, domains, one- or two-step, Sync without Follow_Up, Announce gaps.
import { readPtpHeader, PTP_MESSAGE_TYPES } from './ptp-header.ts';

export interface PtpSummary {
  messages: { sync: number; followUp: number; delayReq: number; delayResp: number; announce: number; other: number };
  grandmasters: string[];
  grandmasterChanges: number;
  domains: number[];
  twoStep: boolean | null;
  syncWithoutFollowUp: number;
  /** Longest gap between Announce messages of one source (ms), and the advertised interval. */
  announce: { maxGapMs: number | null; intervalMs: number | null; timeouts: number };
  rates: { type: string; perSecond: number; advertisedPerSecond: number | null }[];
  notV2: number;
  truncated: number;
}

interface TypeStats {
  count: number;
  firstMs: number;
  lastMs: number;
  logInterval: number | null;
}

export class PtpAnalysis {
  private readonly counts = new Map<string, TypeStats>();
  private readonly gms: string[] = [];
  private gmChanges = 0;
  private currentGm: string | null = null;
  private readonly domains = new Set<number>();
  private twoStep: boolean | null = null;
  private readonly pendingSyncs = new Map<string, number>(); // source/seq -> sync time
  private syncWithoutFollowUp = 0;
  private readonly lastAnnounce = new Map<string, number>();
  private maxAnnounceGapMs: number | null = null;
  private announceIntervalMs: number | null = null;
  private announceTimeouts = 0;
  notV2 = 0;
  truncated = 0;

  add(payload: Uint8Array, timeMs: number): void {
    const h = readPtpHeader(payload);
    if (h === 'not-v2') return void this.notV2++;
    if (h === 'truncated') return void this.truncated++;
    const type = PTP_MESSAGE_TYPES[h.messageType] ?? 'other';
    let s = this.counts.get(type);
    if (!s) this.counts.set(type, (s = { count: 0, firstMs: timeMs, lastMs: timeMs, logInterval: null }));
    s.count++;
    s.lastMs = timeMs;
    // 0x7f means "not applicable" (e.g. Delay_Resp in some profiles, Signaling).
    if (h.logMessageInterval !== 0x7f && h.logMessageInterval !== 127) s.logInterval = h.logMessageInterval;
    this.domains.add(h.domain);
    const key = `${h.clockIdentity}/${h.sourcePort}`;
    if (type === 'sync') {
      this.twoStep = (this.twoStep ?? false) || h.twoStep;
      if (h.twoStep) {
        this.expireSyncs(timeMs);
        this.pendingSyncs.set(`${key}#${h.sequenceId}`, timeMs);
      }
    } else if (type === 'followUp') {
      this.pendingSyncs.delete(`${key}#${h.sequenceId}`);
    } else if (type === 'announce' && h.grandmasterIdentity) {
      if (!this.gms.includes(h.grandmasterIdentity)) this.gms.push(h.grandmasterIdentity);
      if (this.currentGm !== null && this.currentGm !== h.grandmasterIdentity) this.gmChanges++;
      this.currentGm = h.grandmasterIdentity;
      const last = this.lastAnnounce.get(key);
      const intervalMs = 1000 * 2 ** h.logMessageInterval;
      this.announceIntervalMs = intervalMs;
      if (last !== undefined) {
        const gap = timeMs - last;
        if (this.maxAnnounceGapMs === null || gap > this.maxAnnounceGapMs) this.maxAnnounceGapMs = gap;
        // IEEE 1588 announceReceiptTimeout default 3 intervals (AES67 media profile: 3).
        if (gap > 3 * intervalMs) this.announceTimeouts++;
      }
      this.lastAnnounce.set(key, timeMs);
    }
  }

  /** A Follow_Up later than one second after its Sync is counted as missing (bounded map). */
  private expireSyncs(nowMs: number): void {
    for (const [k, t] of this.pendingSyncs) {
      if (nowMs - t <= 1000 && this.pendingSyncs.size < 4096) break;
      this.syncWithoutFollowUp++;
      this.pendingSyncs.delete(k);
    }
  }

  summary(endMs: number): PtpSummary {
    this.expireSyncs(endMs + 1001);
    const c = (t: string) => this.counts.get(t)?.count ?? 0;
    const known = ['sync', 'followUp', 'delayReq', 'delayResp', 'announce'];
    let other = 0;
    for (const [t, s] of this.counts) if (!known.includes(t)) other += s.count;
    return {
      messages: { sync: c('sync'), followUp: c('followUp'), delayReq: c('delayReq'), delayResp: c('delayResp'), announce: c('announce'), other },
      grandmasters: this.gms,
      grandmasterChanges: this.gmChanges,
      domains: [...this.domains].sort((a, b) => a - b),
      twoStep: this.twoStep,
      syncWithoutFollowUp: this.syncWithoutFollowUp,
      announce: { maxGapMs: this.maxAnnounceGapMs, intervalMs: this.announceIntervalMs, timeouts: this.announceTimeouts },
      rates: [...this.counts].map(([type, s]) => ({
        type,
        perSecond: s.count > 1 && s.lastMs > s.firstMs ? ((s.count - 1) * 1000) / (s.lastMs - s.firstMs) : 0,
        advertisedPerSecond: s.logInterval === null ? null : 2 ** -s.logInterval,
      })),
      notV2: this.notV2,
      truncated: this.truncated,
    };
  }
}
