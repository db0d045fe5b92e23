// `aes67-lab analyze FILE [--profile P] [--json] [--tsdf-window MS]`
import type { Command } from 'commander';
import { analyzeCapture, type AnalysisDocument } from '../analyze/analyze-capture.ts';
import { PROFILES, type ProfileName } from '../analyze/profiles.ts';
import { CaptureFormatError } from '../net/pcap/reader.ts';

const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '-' : x.toFixed(digits));

export function formatAnalysis(doc: AnalysisDocument): string {
  const out: string[] = [`${doc.file}: ${doc.format}, ${doc.frames} frames, ${doc.durationS.toFixed(3)} s, profile ${doc.profile}`];
  for (const s of doc.streams) {
    out.push(
      `\nstream ${s.index}  ${s.source} -> ${s.destination}  SSRC ${s.ssrcHex}  PT ${s.payloadType}`,
      `  format    ${s.encoding ?? '?'} ${s.channels ?? '?'} ch ${s.sampleRate ?? '?'} Hz ptime ${s.ptimeUs ?? '?'} µs (${s.formatSource})${s.formatMismatches.length ? `  MISMATCH: ${s.formatMismatches.join('; ')}` : ''}`,
      `  packets   ${s.packets}  lost ${s.lost}  dup ${s.duplicates}  reordered ${s.reordered}  SSRC changes ${s.ssrcChanges}  size changes ${s.payloadSizeChanges}`,
      `  PIT µs    min ${fmt(s.pitUs?.min)} avg ${fmt(s.pitUs?.avg)} max ${fmt(s.pitUs?.max)}   TS-DF ${fmt(s.tsdfUs?.max)} µs   jitter ${fmt(s.jitterUs)} µs`,
      `  Δ µs      min ${fmt(s.deltaUs?.min)} avg ${fmt(s.deltaUs?.avg)} max ${fmt(s.deltaUs?.max)}   DSCP ${s.dscpValues.join(',')}`,
    );
    for (const c of s.checks) out.push(`  ${c.verdict.toUpperCase().padEnd(4)} ${c.name.padEnd(22)} ${String(c.value).padEnd(14)} ${c.limit}`);
  }
  const m = doc.ptp.messages;
  if (Object.values(m).some((n) => n > 0) || doc.ptp.notV2 > 0) {
    out.push(
      `\nPTP  sync ${m.sync} follow-up ${m.followUp} delay-req ${m.delayReq} delay-resp ${m.delayResp} announce ${m.announce} other ${m.other}${doc.ptp.notV2 ? `  (not PTPv2: ${doc.ptp.notV2})` : ''}`,
      `     grandmasters ${doc.ptp.grandmasters.join(', ') || '-'} (changes ${doc.ptp.grandmasterChanges})  domains ${doc.ptp.domains.join(',') || '-'}  two-step ${doc.ptp.twoStep ?? '-'}  sync without follow-up ${doc.ptp.syncWithoutFollowUp}  announce timeouts ${doc.ptp.announce.timeouts}`,
    );
  }
  for (const s of doc.sap) {
    out.push(`\nSAP  ${s.origin} #${s.msgIdHash} "${s.sessionName}" announcements ${s.announcements} deletions ${s.deletions}`);
    for (const l of s.lint) out.push(`     ${l.severity.padEnd(7)} ${l.clause}: ${l.message}${l.line ? ` (line ${l.line})` : ''}`);
  }
  if (doc.captureError) out.push(`\nerror: capture damaged at byte offset ${doc.captureError.offset}: ${doc.captureError.message}`);
  return out.join('\n');
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('RTP streams, PTP and SAP in a pcap/pcapng capture, with verdicts under a profile')
    .argument('<file>', 'pcap or pcapng capture')
    .option('--profile <name>', `one of ${PROFILES.join(', ')}`, 'jtnm-2022')
    .option('--tsdf-window <ms>', 'TS-DF measurement window (EBU Tech 3337)', '200')
    .option('--json', 'one JSON document (schemaVersion, streams[], ptp, sap[])')
    .action((file: string, opts: { profile: string; json?: boolean; tsdfWindow: string }) => {
      if (!PROFILES.includes(opts.profile as ProfileName)) program.error(`error: --profile ${opts.profile}: use one of ${PROFILES.join(', ')}`);
      const tsdfWindowMs = Number(opts.tsdfWindow);
      if (!(tsdfWindowMs > 0)) program.error(`error: --tsdf-window ${opts.tsdfWindow}: a positive number of milliseconds`);
      let doc: AnalysisDocument;
      try {
        doc = analyzeCapture(file, { profile: opts.profile as ProfileName, tsdfWindowMs });
      } catch (e) {
        if (e instanceof CaptureFormatError || (e as NodeJS.ErrnoException).code === 'ENOENT') program.error(`error: ${(e as Error).message}`);
        throw e;
      }
      console.log(opts.json ? JSON.stringify(doc, null, 2) : formatAnalysis(doc));
      if (doc.captureError) {
        console.error(`error: ${doc.captureError.message}`);
        process.exitCode = 1;
      }
    });
}
