// The third-party captures in ../shared/captures (never copied into the repo).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../native/index.ts';

export const sharedCapturesDir = path.resolve(projectRoot, '../shared/captures');

/** Every .pcap / .pcapng under the shared folder, or [] when the folder is absent. */
export function sharedCaptures(): string[] {
  if (!existsSync(sharedCapturesDir)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.pcap(ng)?$/.test(name)) out.push(p);
    }
  };
  walk(sharedCapturesDir);
  return out;
}
