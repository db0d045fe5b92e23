// Network namespaces for live tests: N hosts, each in its own namespace with one veth
// into a bridge namespace (a switch), addresses 10.67.<subnet>.<n>/24 and a multicast
// route. Names carry a fixed prefix so a crashed run's leftovers are removed on the next
// start, and destroy() deletes everything it made that is still its own. Root only.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';

export interface NetnsHost {
  name: string;
  /** Namespace name. */
  ns: string;
  /** Interface name inside the namespace. */
  ifname: string;
  address: string;
}

export interface Netns {
  hosts: NetnsHost[];
  host(name: string): NetnsHost;
  /** Runs a command in a host's namespace and returns its stdout (throws on failure). */
  exec(host: string, cmd: string, args: string[], timeoutMs?: number): string;
  /** Starts a long-running command in a host's namespace; destroy() kills it. */
  spawn(host: string, cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
  /**
   * The names (of those this made) that no longer name this object's namespaces: another
   * process deleted them, e.g. a second copy of the same test file, whose start removes
   * "stale" namespaces of these exact names. Empty while all are its own.
   */
  replaced(): string[];
  /** Kills what spawn() started and deletes the namespaces that are still its own. */
  destroy(): void;
}

export interface NetnsOptions {
  /** Unique per test file, 3-8 chars of [a-z0-9-]; every namespace name starts with it. */
  prefix: string;
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

/**
 * Deletes the namespaces named `names` that exist (leftovers of a crashed run of the same
 * test). Exactly these: matching a prefix deleted other tests' namespaces whose prefix
 * began with it ('a67h' took the soak's 'a67hs...' mid-run: its DUT's sends then failed
 * with ENETUNREACH).
 */
export function removeStale(names: string[]): string[] {
  const existing = new Set(ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]));
  const stale = names.filter((n) => existing.has(n));
  for (const n of stale) {
    try {
      ip(['netns', 'delete', n]);
    } catch {
      // Already gone.
    }
  }
  return stale;
}

export function createNetns(options: NetnsOptions): Netns {
  const { prefix, hosts: names, subnet } = options;
  if (!/^[a-z0-9-]{3,8}$/.test(prefix)) throw new Error(`netns prefix '${prefix}' must be 3-8 chars of [a-z0-9-]`);
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`subnet must be 0-255, got ${subnet}`);
  const children: ChildProcess[] = [];
  const created: string[] = [];
  const bridgeNs = `${prefix}br`;
  const hosts: NetnsHost[] = names.map((name, i) => ({ name, ns: `${prefix}${name}`, ifname: 'eth0', address: `10.67.${subnet}.${i + 1}` }));
  removeStale([bridgeNs, ...hosts.map((h) => h.ns)]);
  // Each namespace made is held open: one deleted by name lives on while held, so a new one
  // of the same name cannot get its nsfs inode number (freed ones are reused), and the
  // inode then tells ours from a replacement's.
  const held = new Map<string, number>();
  const add = (ns: string) => {
    ip(['netns', 'add', ns]);
    created.push(ns);
    held.set(ns, openSync(`/run/netns/${ns}`, 'r'));
  };
  const ours = (ns: string) => {
    const fd = held.get(ns);
    if (fd === undefined) return false;
    try {
      const now = statSync(`/run/netns/${ns}`);
      const mine = fstatSync(fd);
      return now.ino === mine.ino && now.dev === mine.dev;
    } catch {
      return false; // the name is gone
    }
  };
  const replaced = () => created.filter((ns) => !ours(ns));
  const destroy = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
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
  };
  try {
    add(bridgeNs);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // Multicast must flood like on an unmanaged switch (no IGMP snooping surprises).
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    hosts.forEach((h, i) => {
      add(h.ns);
      const peer = `p${i}`;
      ip(['link', 'add', `${prefix}${i}`, 'type', 'veth', 'peer', 'name', `${prefix}${i}b`]);
      ip(['link', 'set', `${prefix}${i}`, 'netns', h.ns]);
      ip(['link', 'set', `${prefix}${i}b`, 'netns', bridgeNs]);
      ip(['-n', h.ns, 'link', 'set', `${prefix}${i}`, 'name', h.ifname]);
      ip(['-n', bridgeNs, 'link', 'set', `${prefix}${i}b`, 'name', peer]);
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
    host,
    exec(name, cmd, args, timeoutMs = 30_000) {
      return execFileSync('ip', ['netns', 'exec', host(name).ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    spawn(name, cmd, args, spawnOptions = {}) {
      const child = spawn('ip', ['netns', 'exec', host(name).ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      children.push(child);
      return child;
    },
    replaced,
    destroy,
  };
}
