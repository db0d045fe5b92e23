// Who owns a run's network namespaces (ci/netns.ts), so that a later run can tell a crashed
// run's leftovers (owner gone) from a running copy's namespaces (owner alive: the same test
// file run at the same time in another CI job or another checkout on this machine).
//
// A run claims a random tag before it makes a namespace: it writes a record (its prefix,
// tag, namespace names and owner) to RUNS_DIR, and removes the record only after deleting
// the namespaces, so every namespace of a run has a record while it exists. The owner is
// the pid with its start time (/proc/<pid>/stat field 22: a reused pid is not the owner),
// its pid namespace (a pid from another one means nothing in our /proc: such a run is
// never judged) and the boot (no owner outlives a reboot). Records live beside, not in,
// /run/netns: every file there is listed by `ip netns list` as a namespace.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const RUNS_DIR = '/run/aes67-lab/netns';
export const NETNS_DIR = '/run/netns';
/** Tag length: 36^4 = 1.7 million tags; one already taken is skipped (claimRun). */
export const TAG_LENGTH = 4;
const TAG_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const CLAIM_TRIES = 100;

export interface Owner {
  pid: number;
  /** /proc/<pid>/stat field 22, clock ticks after boot. */
  startTime: string;
  /** readlink /proc/self/ns/pid, e.g. 'pid:[4026531836]'. */
  pidNs: string;
  bootId: string;
}

export interface RunRecord {
  prefix: string;
  tag: string;
  names: string[];
  owner: Owner;
}

/** 'unknown': the owner is in another pid namespace; its run is left alone. */
export type OwnerState = 'alive' | 'dead' | 'unknown';

function procStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may hold spaces and ')': field 3 on follows the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], startTime: rest[22 - 3] };
}

/** This process as a run's owner. */
export function currentOwner(): Owner {
  const stat = procStat(process.pid);
  if (!stat) throw new Error(`cannot read /proc/${process.pid}/stat: network namespace runs need Linux /proc`);
  return {
    pid: process.pid,
    startTime: stat.startTime,
    pidNs: readlinkSync('/proc/self/ns/pid'),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  };
}

export function ownerState(owner: Owner, me: Owner = currentOwner()): OwnerState {
  if (owner.bootId !== me.bootId) return 'dead';
  if (owner.pidNs !== me.pidNs) return 'unknown';
  const stat = procStat(owner.pid);
  if (!stat || stat.startTime !== owner.startTime) return 'dead';
  // A zombie will never destroy anything.
  return stat.state === 'Z' || stat.state === 'X' ? 'dead' : 'alive';
}

const recordFile = (prefix: string, tag: string) => path.join(RUNS_DIR, `${prefix}.${tag}.json`);

function readRecord(file: string): RunRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    return typeof r.prefix === 'string' && typeof r.tag === 'string' && Array.isArray(r.names) && typeof r.owner?.pid === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The records of runs with exactly this prefix (a prefix that begins with it is another test's). */
export function runsOf(prefix: string): RunRecord[] {
  let files: string[];
  try {
    files = readdirSync(RUNS_DIR);
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  for (const f of files) {
    // prefix has no '.', so '<prefix>.<tag>.json' parses one way only.
    const m = /^([a-z0-9-]+)\.([a-z0-9]+)\.json$/.exec(f);
    if (!m || m[1] !== prefix) continue;
    const r = readRecord(path.join(RUNS_DIR, f));
    // Unreadable: left alone (records are linked into place whole, so this is not one being written).
    if (r && r.prefix === prefix && r.tag === m[2]) out.push(r);
  }
  return out;
}

const ip = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });

/**
 * Deletes a leftover namespace by name, after killing the processes still in it (a killed
 * test's DUT or peers, orphaned: they would otherwise run on, and keep the namespace alive).
 * False when there was none of that name.
 */
function deleteLeftover(ns: string): boolean {
  if (!existsSync(path.join(NETNS_DIR, ns))) return false;
  try {
    for (const pid of ip(['netns', 'pids', ns]).split('\n').filter((l) => /^\d+$/.test(l))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    ip(['netns', 'delete', ns]);
  } catch {
    // Deleted meanwhile (another run cleaning the same leftover).
  }
  return true;
}

/**
 * Deletes the namespaces (and their records) of runs with this prefix whose owner is dead;
 * never those of a live owner or of one in another pid namespace. Returns the names deleted.
 * Veth ends never sit in the root namespace (ci/netns.ts makes each pair inside its two
 * namespaces), so a dead run leaves nothing there.
 */
export function removeDeadRuns(prefix: string): string[] {
  const me = currentOwner();
  const removed: string[] = [];
  for (const r of runsOf(prefix)) {
    if (ownerState(r.owner, me) !== 'dead') continue;
    for (const ns of r.names) if (deleteLeftover(ns)) removed.push(ns);
    try {
      unlinkSync(recordFile(prefix, r.tag));
    } catch {
      // Removed meanwhile.
    }
  }
  return removed;
}

export interface Claim {
  tag: string;
  names: string[];
  /** Removes the record: call after the namespaces are deleted. */
  release(): void;
}

/**
 * Claims a tag no run holds and whose names (`namesFor(tag)`) no namespace has, and records
 * this process as their owner. The record is written aside and linked into place, so a
 * reader never sees half of one and two runs never get the same tag (link fails if it exists).
 */
export function claimRun(prefix: string, namesFor: (tag: string) => string[]): Claim {
  mkdirSync(RUNS_DIR, { recursive: true });
  const owner = currentOwner();
  for (let i = 0; i < CLAIM_TRIES; i++) {
    const tag = Array.from({ length: TAG_LENGTH }, () => TAG_CHARS[randomInt(TAG_CHARS.length)]).join('');
    const names = namesFor(tag);
    if (names.some((n) => existsSync(path.join(NETNS_DIR, n)))) continue;
    const file = recordFile(prefix, tag);
    const aside = path.join(RUNS_DIR, `.${prefix}.${tag}.${process.pid}.tmp`);
    writeFileSync(aside, `${JSON.stringify({ prefix, tag, names, owner } satisfies RunRecord)}\n`);
    try {
      linkSync(aside, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    } finally {
      unlinkSync(aside);
    }
    return {
      tag,
      names,
      release() {
        try {
          unlinkSync(file);
        } catch {
          // Already removed.
        }
      },
    };
  }
  throw new Error(`no free netns run tag for prefix '${prefix}' in ${CLAIM_TRIES} tries: ${RUNS_DIR} or ${NETNS_DIR} is full of '${prefix}' runs`);
}
