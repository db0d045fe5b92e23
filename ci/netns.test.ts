import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { canUseNetns, createNetns, removeStale, type Netns } from './netns.ts';

const usable = canUseNetns();

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

describe.skipIf(!usable.ok)(`network namespaces (${usable.reason ?? 'root'})`, () => {
  let net: Netns | undefined;
  afterAll(() => net?.destroy());

  it('joins hosts through a bridge, carries unicast and multicast, and cleans up', async () => {
    net = createNetns({ prefix: 'a67nt-', hosts: ['a', 'b', 'c'], subnet: 90 });
    expect(net.hosts.map((h) => h.address)).toEqual(['10.67.90.1', '10.67.90.2', '10.67.90.3']);
    expect(await deliver(net, 'a', 'c', '10.67.90.3', '10.67.90.3')).toBe('hello-c');
    expect(await deliver(net, 'a', 'b', '239.67.0.1', '239.67.0.1', { group: '239.67.0.1', iface: '10.67.90.2' })).toBe('hello-b');
    net.destroy();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/a67nt-/);
    expect(removeStale(['a67nt-br', 'a67nt-a', 'a67nt-b', 'a67nt-c'])).toEqual([]);
  });

  it("leaves another test's namespaces alone, even when their prefix begins with this one's", () => {
    const other = createNetns({ prefix: 'a67nt-x', hosts: ['a'], subnet: 91 });
    try {
      net = createNetns({ prefix: 'a67nt-', hosts: ['a'], subnet: 90 });
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toMatch(/a67nt-xa/);
      net.destroy();
      // And a leftover of this test's own is taken away.
      execFileSync('ip', ['netns', 'add', 'a67nt-a']);
      expect(removeStale(['a67nt-br', 'a67nt-a'])).toEqual(['a67nt-a']);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toMatch(/a67nt-xa/);
    } finally {
      other.destroy();
    }
  });

  it('a second copy of the same names takes them over; the first then says so and deletes none of the second copy\'s', () => {
    const list = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
    const first = createNetns({ prefix: 'a67nt-', hosts: ['a'], subnet: 90 });
    let second: Netns | undefined;
    try {
      expect(first.replaced()).toEqual([]);
      second = createNetns({ prefix: 'a67nt-', hosts: ['a'], subnet: 90 });
      expect(first.replaced()).toEqual(['a67nt-br', 'a67nt-a']);
      expect(second.replaced()).toEqual([]);
      first.destroy();
      expect(list()).toEqual(expect.arrayContaining(['a67nt-br', 'a67nt-a']));
      expect(second.exec('a', 'ip', ['-br', 'addr', 'show', 'eth0'])).toMatch(/10\.67\.90\.1\/24/);
    } finally {
      first.destroy();
      second?.destroy();
    }
    expect(list()).not.toContain('a67nt-a');
  });

  it('rejects a bad prefix before touching anything', () => {
    expect(() => createNetns({ prefix: 'BAD PREFIX', hosts: ['a'], subnet: 1 })).toThrow(/prefix/);
  });
});
