// Network namespaces for live tests: N hosts, each in its own namespace with one veth
// into a bridge namespace (a switch), addresses 10.67.<subnet>.<n>/24 and a multicast
// route. Root only.
//
// Names are <prefix>.<tag>.<host> (the bridge's <host> is 'br'): the prefix says which test
// file, the tag (random, 4 chars) which run of it, so two runs of the same file at once (two
// CI jobs on one HIL runner, two checkouts on one machine) each have their own; their
// addresses may be the same, each namespace has its own stack. Code outside this file takes
// the names from host(name).ns and never spells them. Each run records its owner process
// (ci/netns-owner.ts); the next run of the same prefix deletes the leftovers of runs whose
// owner is dead (a crashed or killed test) and never touches a live owner's. Veth pairs are
// made inside their two namespaces (ip -n <host> link add eth0 ... peer p<i> netns <br>), so
// no interface of ours is ever in the root namespace: nothing there to clash or be left over.
// destroy() deletes everything the run made that is still its own.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { claimRun, NETNS_DIR, removeDeadRuns, TAG_LENGTH } from './netns-owner.ts';

/**
 * The longest namespace name: a rig file's lab.netns takes at most 64 chars (lab/hil/rig.ts)
 * and test rigs write theirs there. (/run/netns file names could be 255; interface names,
 * 15, do not bind: the only ones made are eth0 and p<i>.)
 */
export const NETNS_NAME_MAX = 64;

export interface NetnsHost {
  name: string;
  /** Namespace name, <prefix>.<tag>.<name>: take it from here, never spell it. */
  ns: string;
  /** Interface name inside the namespace. */
  ifname: string;
  address: string;
}

export interface Netns {
  hosts: NetnsHost[];
  /** <prefix>.<tag>: what all of this run's namespace names begin with. */
  run: string;
  /** The bridge's (the switch's) namespace name. */
  bridge: string;
  host(name: string): NetnsHost;
  /** Runs a command in a host's namespace and returns its stdout (throws on failure). */
  exec(host: string, cmd: string, args: string[], timeoutMs?: number): string;
  /** Starts a long-running command in a host's namespace; destroy() kills it. */
  spawn(host: string, cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
  /**
   * The names (of those this made) that no longer name this object's namespaces: another
   * process deleted them by name (e.g. by hand: other runs never do). Empty while all are its
   * own.
   */
  replaced(): string[];
  /** Kills what spawn() started and deletes the namespaces that are still its own. */
  destroy(): void;
}

export interface NetnsOptions {
  /** Unique per test file, 3-8 chars of [a-z0-9-]; every namespace name starts with it. */
  prefix: string;
  /** Names of [a-z0-9], not 'br' (the bridge's). */
  hosts: string[];
  /** Third octet of 10.67.x.0/24. */
  subnet: number;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

export function canUseNetns(): { ok: boolean; reason?: string } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not root: network namespaces need root' };
  try {
    ip(['netns', 'list']);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `ip netns fails: ${(e as Error).message}` };
  }
}

/** Bare namespaces of one run, for topologies other than createNetns's bridge. */
export interface Namespaces {
  /** <prefix>.<tag> */
  run: string;
  /** The namespace of `key` (one of those asked for). */
  ns(key: string): string;
  /** See Netns.replaced. */
  replaced(): string[];
  /** Deletes the namespaces still its own, then the run's record. */
  destroy(): void;
}

/**
 * Makes one namespace per key, named <prefix>.<tag>.<key>, after deleting the leftovers of
 * dead runs of `prefix` (ci/netns-owner.ts). Checks every name before touching anything.
 */
export function createNamespaces(prefix: string, keys: string[]): Namespaces {
  if (!/^[a-z0-9-]{3,8}$/.test(prefix)) throw new Error(`netns prefix '${prefix}' must be 3-8 chars of [a-z0-9-]`);
  if (keys.length === 0) throw new Error(`netns prefix '${prefix}': no hosts`);
  for (const k of keys) {
    if (!/^[a-z0-9]+$/.test(k)) throw new Error(`netns host '${k}' (prefix '${prefix}') must be [a-z0-9]+: it becomes part of a namespace name`);
    // <prefix>.<tag>.<key>
    const length = prefix.length + 1 + TAG_LENGTH + 1 + k.length;
    if (length > NETNS_NAME_MAX) {
      throw new Error(`netns host '${k}' (prefix '${prefix}'): its namespace name <prefix>.<tag>.<host> would be ${length} chars, over ${NETNS_NAME_MAX} (a rig file's lab.netns); shorten the host name to at most ${NETNS_NAME_MAX - prefix.length - TAG_LENGTH - 2} chars`);
    }
  }
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new Error(`netns host '${dup}' (prefix '${prefix}') is named twice`);
  removeDeadRuns(prefix);
  const claim = claimRun(prefix, (tag) => keys.map((k) => `${prefix}.${tag}.${k}`));
  const run = `${prefix}.${claim.tag}`;
  const nameOf = new Map(keys.map((k, i) => [k, claim.names[i]]));
  // Each namespace made is held open: one deleted by name lives on while held, so a new one
  // of the same name cannot get its nsfs inode number (freed ones are reused), and the
  // inode then tells ours from a replacement's.
  const held = new Map<string, number>();
  const created: string[] = [];
  const ours = (ns: string) => {
    const fd = held.get(ns);
    if (fd === undefined) return false;
    try {
      const now = statSync(path.join(NETNS_DIR, ns));
      const mine = fstatSync(fd);
      return now.ino === mine.ino && now.dev === mine.dev;
    } catch {
      return false; // the name is gone
    }
  };
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of created.reverse()) {
      // Another process's namespace of the same name is not ours to delete.
      if (!ours(ns)) continue;
      try {
        ip(['netns', 'delete', ns]);
      } catch {
        // Already gone.
      }
    }
    for (const fd of held.values()) closeSync(fd);
    held.clear();
    created.length = 0;
    // Last: while a namespace of the run exists, its record does.
    claim.release();
  };
  try {
    for (const ns of claim.names) {
      ip(['netns', 'add', ns]);
      created.push(ns);
      held.set(ns, openSync(path.join(NETNS_DIR, ns), 'r'));
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    run,
    ns(key) {
      const ns = nameOf.get(key);
      if (ns === undefined) throw new Error(`no namespace '${key}' in run ${run} (have ${keys.join(', ')})`);
      return ns;
    },
    replaced: () => created.filter((ns) => !ours(ns)),
    destroy,
  };
}

export function createNetns(options: NetnsOptions): Netns {
  const { prefix, hosts: names, subnet } = options;
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`subnet must be 0-255, got ${subnet}`);
  if (names.includes('br')) throw new Error(`netns host 'br' (prefix '${prefix}'): the bridge's namespace is called that; name the host otherwise`);
  if (names.length > 254) throw new Error(`netns prefix '${prefix}': ${names.length} hosts, a /24 holds 254`);
  const spaces = createNamespaces(prefix, ['br', ...names]);
  const children: ChildProcess[] = [];
  const bridgeNs = spaces.ns('br');
  const hosts: NetnsHost[] = names.map((name, i) => ({ name, ns: spaces.ns(name), ifname: 'eth0', address: `10.67.${subnet}.${i + 1}` }));
  const destroy = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    spaces.destroy();
  };
  try {
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // Multicast must flood like on an unmanaged switch (no IGMP snooping surprises).
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    hosts.forEach((h, i) => {
      const peer = `p${i}`;
      // Both ends are born in their namespaces: no name in the root namespace to clash.
      ip(['-n', h.ns, 'link', 'add', h.ifname, 'type', 'veth', 'peer', 'name', peer, 'netns', bridgeNs]);
      ip(['-n', bridgeNs, 'link', 'set', peer, 'master', 'br0']);
      ip(['-n', bridgeNs, 'link', 'set', peer, 'up']);
      ip(['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', h.ifname]);
      ip(['-n', h.ns, 'link', 'set', h.ifname, 'up']);
      ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', h.ifname]);
    });
  } catch (e) {
    destroy();
    throw e;
  }
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const host = (name: string) => {
    const h = byName.get(name);
    if (!h) throw new Error(`no netns host '${name}' (have ${names.join(', ')})`);
    return h;
  };
  return {
    hosts,
    run: spaces.run,
    bridge: bridgeNs,
    host,
    exec(name, cmd, args, timeoutMs = 30_000) {
      return execFileSync('ip', ['netns', 'exec', host(name).ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    spawn(name, cmd, args, spawnOptions = {}) {
      const child = spawn('ip', ['netns', 'exec', host(name).ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      children.push(child);
      return child;
    },
    replaced: spaces.replaced,
    destroy,
  };
}
