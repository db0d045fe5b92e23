// Runs Wireshark's tshark: the independent dissector the lab's codecs are checked against.
import { execFileSync } from 'node:child_process';

export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `-T fields` rows, one array of field values per packet. With occurrence 'a' repeated
 * fields are joined by ","; 'f' keeps the first (an inner dissector may repeat a field).
 */
export function tsharkFields(file: string, fields: string[], extra: string[] = [], occurrence: 'a' | 'f' = 'f'): string[][] {
  const out = tshark(['-r', file, ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', `occurrence=${occurrence}`, '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
  // A packet whose fields are all absent is an empty line: keep it, drop only the final one.
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.split('\t'));
}

/** Packets tshark flags as malformed or with an expert warning or error. */
export function tsharkProblems(file: string, extra: string[] = []): string[] {
  return tshark(['-r', file, ...extra, '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000'])
    .split('\n')
    .filter((l) => l.trim() !== '');
}
