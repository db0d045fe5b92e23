import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canUseNetns, createNetns, NETNS_NAME_MAX, type Netns } from './netns.ts';
import { currentOwner, RUNS_DIR, runsOf, type RunRecord } from './netns-owner.ts';
import { rigSchema } from '../lab/hil/rig.ts';

const usable = canUseNetns();
const P = 'a67nt-';

// python3 is the independent peer: receive one datagram on (bind, port), joining `group`.
function receiverScript(bind: string, port: number, join?: { group: string; iface: string }): string {
  return [
    'import socket,struct',
    's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
    `s.bind(("${bind}",${port}))`,
    join ? `s.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,struct.pack("4s4s",socket.inet_aton("${join.group}"),socket.inet_aton("${join.iface}")))` : '',
    's.settimeout(5)',
    'print(s.recv(100).decode(),flush=True)',
  ].join('\n');
}

function senderScript(from: string, to: string, port: number, text: string): string {
  return `import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton("${from}"));s.sendto(b"${text}",("${to}",${port}))`;
}

async function deliver(net: Netns, from: string, to: string, bind: string, dest: string, join?: { group: string; iface: string }): Promise<string> {
  const listener = net.spawn(to, 'python3', ['-c', receiverScript(bind, 5004, join)]);
  const got = new Promise<string>((resolve) => {
    listener.stdout!.on('data', (d: Buffer) => resolve(d.toString().trim()));
    listener.on('exit', () => resolve('(nothing)'));
  });
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 5; i++) {
    net.exec(from, 'python3', ['-c', senderScript(net.host(from).address, dest, 5004, `hello-${to}`)]);
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}

const listNs = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
const rootLinks = () => execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }).split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean).sort();
const namesOf = (net: Netns) => [net.bridge, ...net.hosts.map((h) => h.ns)];
/** Running: exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

interface ChildRun {
  prefix: string;
  run: string;
  names: string[];
  sleeper: number;
}

/** Another process owning runs (ci/netns-run-process.ts); resolves once they are made. */
async function ownerProcess(specs: string[]): Promise<{ child: ChildProcess; runs: ChildRun[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'netns-run-process.ts'), ...specs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const runs = await new Promise<ChildRun[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`netns-run-process printed nothing in 30 s: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(out) as ChildRun[]);
      }
    });
    child.on('exit', (code) => reject(new Error(`netns-run-process exited ${code}: ${err}`)));
  });
  return { child, runs };
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

describe.skipIf(!usable.ok)(`network namespaces (${usable.reason ?? 'root'})`, () => {
  const nets: Netns[] = [];
  const children: ChildProcess[] = [];
  const make = (prefix: string, hosts: string[], subnet = 90) => {
    const n = createNetns({ prefix, hosts, subnet });
    nets.push(n);
    return n;
  };
  afterAll(async () => {
    for (const c of children) {
      c.stdin?.end();
      if (c.exitCode === null && c.signalCode === null) await Promise.race([exited(c), new Promise((r) => setTimeout(r, 10_000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    for (const n of nets) n.destroy();
  });

  it('joins hosts through a bridge, carries unicast and multicast, puts nothing in the root namespace, and cleans up', async () => {
    const before = rootLinks();
    const net = make(P, ['a', 'b', 'c']);
    expect(net.run).toMatch(/^a67nt-\.[a-z0-9]{4}$/);
    expect(namesOf(net)).toEqual(['br', 'a', 'b', 'c'].map((h) => `${net.run}.${h}`));
    expect(net.hosts.map((h) => h.address)).toEqual(['10.67.90.1', '10.67.90.2', '10.67.90.3']);
    expect(rootLinks()).toEqual(before);
    expect(await deliver(net, 'a', 'c', '10.67.90.3', '10.67.90.3')).toBe('hello-c');
    expect(await deliver(net, 'a', 'b', '239.67.0.1', '239.67.0.1', { group: '239.67.0.1', iface: '10.67.90.2' })).toBe('hello-b');
    expect(runsOf(P).map((r) => r.tag)).toContain(net.run.split('.')[1]);
    net.destroy();
    expect(listNs()).not.toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${net.run.replace('.', '\\.')}`))]));
    expect(runsOf(P).map((r) => r.tag)).not.toContain(net.run.split('.')[1]);
  });

  it('makes no interface in the root namespace, not even for a moment (the kernel\'s link events there)', () => {
    // The owner runs under unshare --net: its root namespace is a fresh one that nothing else
    // uses, and `ip monitor link` there hears every link made in it. Marker veth pairs (in that
    // private namespace) say when the monitor listens and when it has heard everything.
    const script = [
      'ip -o monitor link > "$1" & m=$!',
      'mark() { ip link add "a67mk$1" type veth peer name "a67mk$1p"; i=0; while ! grep -q "a67mk$1" "$2" && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }',
      'mark 0 "$1"',
      'shift 2; "$@" < /dev/null > "$out"',
      'mark 1 "$events"',
      'kill $m',
    ].join('\n');
    const dir = mkdtempSync(path.join(tmpdir(), 'a67nt-'));
    try {
      const events = path.join(dir, 'events');
      const out = path.join(dir, 'out');
      execFileSync('unshare', ['--net', 'sh', '-c', `events="$1"; out="$2"; ${script}`, 'sh', events, out, process.execPath, '--import', 'tsx', path.join(import.meta.dirname, 'netns-run-process.ts'), `${P}:a,b`], { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      // It made its run (and, stdin closed, destroyed it).
      expect((JSON.parse(readFileSync(out, 'utf8')) as ChildRun[])[0].names).toHaveLength(3);
      const lines = readFileSync(events, 'utf8').split('\n').filter(Boolean);
      expect(lines.filter((l) => l.includes('a67mk1')).length, 'the monitor heard the end marker').toBeGreaterThan(0);
      expect(lines.filter((l) => !l.includes('a67mk'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two runs of the same prefix at once both work, and each one\'s destroy() leaves the other intact', async () => {
    const first = make(P, ['a', 'b']);
    const second = make(P, ['a', 'b']);
    expect(first.run).not.toBe(second.run);
    // Same addresses in both: each namespace has its own stack.
    expect(await deliver(first, 'a', 'b', '10.67.90.2', '10.67.90.2')).toBe('hello-b');
    expect(await deliver(second, 'a', 'b', '10.67.90.2', '10.67.90.2')).toBe('hello-b');
    // A third run of the prefix (its start removes dead runs) leaves both: their owner lives.
    make(P, ['a']).destroy();
    first.destroy();
    expect(listNs()).toEqual(expect.arrayContaining(namesOf(second)));
    expect(listNs()).not.toEqual(expect.arrayContaining([first.host('a').ns]));
    expect(second.replaced()).toEqual([]);
    expect(await deliver(second, 'b', 'a', '10.67.90.1', '10.67.90.1')).toBe('hello-a');
    second.destroy();
    for (const n of namesOf(second)) expect(listNs()).not.toContain(n);
  });

  it("deletes a killed owner's leftovers (and the processes left in them) on the next start, and no other prefix's", async () => {
    const { child, runs } = await ownerProcess([`${P}:a,b`, 'a67nt-x:a']);
    children.push(child);
    const [mine, other] = runs;
    child.kill('SIGKILL');
    await exited(child);
    // Left behind: the namespaces, and the sleep the owner started in one.
    expect(listNs()).toEqual(expect.arrayContaining([...mine.names, ...other.names]));
    expect(running(mine.sleeper)).toBe(true);
    make(P, ['a']);
    const after = listNs();
    for (const n of mine.names) expect(after).not.toContain(n);
    expect(runsOf(P).map((r) => `${P}.${r.tag}`)).not.toContain(mine.run);
    for (let i = 0; i < 50 && running(mine.sleeper); i++) await new Promise((r) => setTimeout(r, 20));
    expect(running(mine.sleeper)).toBe(false);
    // 'a67nt-x' begins with 'a67nt-' but is another test's: its leftovers wait for its own next start.
    expect(after).toEqual(expect.arrayContaining(other.names));
    expect(running(other.sleeper)).toBe(true);
    make('a67nt-x', ['a']);
    for (const n of other.names) expect(listNs()).not.toContain(n);
    expect(running(other.sleeper)).toBe(false);
  });

  it("never deletes a live owner's namespaces", async () => {
    const { child, runs } = await ownerProcess([`${P}:a`]);
    children.push(child);
    const [theirs] = runs;
    const mine = make(P, ['a']);
    expect(listNs()).toEqual(expect.arrayContaining(theirs.names));
    expect(running(theirs.sleeper)).toBe(true);
    // Theirs still works, with the same address as ours.
    expect(execFileSync('ip', ['netns', 'exec', theirs.names[1], 'ip', '-br', 'addr', 'show', 'eth0'], { encoding: 'utf8' })).toMatch(/10\.67\.92\.1\/24/);
    mine.destroy();
    expect(listNs()).toEqual(expect.arrayContaining(theirs.names));
    // Its owner ends it: gone.
    child.stdin!.end();
    await exited(child);
    expect(child.exitCode).toBe(0);
    for (const n of theirs.names) expect(listNs()).not.toContain(n);
  });

  it("takes a live pid that started at another time for a dead owner (a reused pid); leaves a run of another pid namespace alone", () => {
    const me = currentOwner();
    const fake = (tag: string, owner: RunRecord['owner']) => {
      const names = [`${P}.${tag}.a`];
      for (const n of names) execFileSync('ip', ['netns', 'add', n]);
      writeFileSync(path.join(RUNS_DIR, `${P}.${tag}.json`), JSON.stringify({ prefix: P, tag, names, owner } satisfies RunRecord));
      return names;
    };
    const reused = fake('zzz1', { ...me, startTime: String(Number(me.startTime) - 1) });
    const elsewhere = fake('zzz2', { ...me, pid: 4_000_000, pidNs: 'pid:[1]' });
    try {
      make(P, ['a']);
      expect(listNs()).not.toContain(reused[0]);
      expect(existsSync(path.join(RUNS_DIR, `${P}.zzz1.json`))).toBe(false);
      expect(listNs()).toContain(elsewhere[0]);
      expect(existsSync(path.join(RUNS_DIR, `${P}.zzz2.json`))).toBe(true);
    } finally {
      for (const n of [...reused, ...elsewhere]) if (listNs().includes(n)) execFileSync('ip', ['netns', 'delete', n]);
      for (const t of ['zzz1', 'zzz2']) if (existsSync(path.join(RUNS_DIR, `${P}.${t}.json`))) unlinkSync(path.join(RUNS_DIR, `${P}.${t}.json`));
    }
  });

  it('refuses a name over the length budget before making anything; the longest allowed is one a rig file takes', () => {
    const budget = NETNS_NAME_MAX - P.length - 4 - 2;
    const recordsBefore = runsOf(P).length;
    const nsBefore = listNs();
    expect(() => createNetns({ prefix: P, hosts: ['a', 'x'.repeat(budget + 1)], subnet: 90 })).toThrow(
      new RegExp(`would be ${NETNS_NAME_MAX + 1} chars, over ${NETNS_NAME_MAX}.*at most ${budget} chars`),
    );
    expect(runsOf(P).length).toBe(recordsBefore);
    expect(listNs()).toEqual(nsBefore);
    const longest = make(P, ['x'.repeat(budget)]);
    expect(longest.hosts[0].ns).toHaveLength(NETNS_NAME_MAX);
    expect(rigSchema.shape.lab.shape.netns.safeParse(longest.hosts[0].ns).success).toBe(true);
    longest.destroy();
  });

  it('says which of its namespaces another process deleted by name, and deletes none of theirs', () => {
    const net = make(P, ['a']);
    expect(net.replaced()).toEqual([]);
    const ns = net.host('a').ns;
    execFileSync('ip', ['netns', 'delete', ns]);
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      expect(net.replaced()).toEqual([ns]);
      net.destroy();
      expect(listNs()).toContain(ns);
      expect(listNs()).not.toContain(net.bridge);
    } finally {
      execFileSync('ip', ['netns', 'delete', ns]);
    }
  });

  it('rejects a bad prefix or host before touching anything', () => {
    expect(() => createNetns({ prefix: 'BAD PREFIX', hosts: ['a'], subnet: 1 })).toThrow(/prefix/);
    expect(() => createNetns({ prefix: P, hosts: ['a.b'], subnet: 1 })).toThrow(/host 'a\.b'.*\[a-z0-9\]/);
    expect(() => createNetns({ prefix: P, hosts: ['br'], subnet: 1 })).toThrow(/bridge/);
    expect(() => createNetns({ prefix: P, hosts: ['a', 'a'], subnet: 1 })).toThrow(/named twice/);
  });
});
