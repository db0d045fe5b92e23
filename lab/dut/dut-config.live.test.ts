// The software DUT facing people and its own files: bad flags and bad configuration files
// are refused with a message naming the flag, or the file and key, and the fix, and a
// non-zero exit (2), before anything is opened; and, running in a namespace of its own
// (one host, tshark beside it on the same link), the control endpoint adds and removes
// streams, saves them atomically, survives a corrupt state file without losing what was
// saved, stays bounded (request size, connections), and a SIGTERM stops it with exit 0
// after it sent SAP deletions (read off the wire by tshark).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { missingForDut, sleep } from './test-support.ts';

const built = missingForDut([]);
const usable = canUseNetns();
const live = usable.ok ? missingForDut(['tshark']) : usable.reason;
const SUBNET = 134;

function run(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(DUT_BINARY, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? ((error as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? null : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const GOOD_SDP = ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=In', 'c=IN IP4 239.69.134.50/32', 't=0 0', 'm=audio 5004 RTP/AVP 97', 'a=rtpmap:97 L24/48000/2', 'a=ptime:1', ''].join('\r\n');

describe.skipIf(built !== undefined)(`aes67-dut refuses bad flags and configuration (${built ?? 'built'})`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'a67dxc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const config = (o: Record<string, unknown>) => JSON.stringify({ interface: 'lo', ...o }, null, 2);

  it('flags: each mistake named with the fix, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--config FILE is required/],
      [['--config'], /--config needs a file: --config dut.json/],
      [['--bogus'], /unknown flag '--bogus'/],
      [['--config', write('ok.json', config({})), '--control', '10.0.0.1:80'], /--control 10.0.0.1:80: .*not on loopback.*127\.x\.x\.x:PORT or a Unix socket/],
      [['--config', write('ok2.json', config({})), '--control', 'nonsense'], /--control nonsense: .*neither "127.0.0.1:PORT" nor "unix:/],
      [['--config', path.join(dir, 'absent.json')], /absent\.json: cannot read the configuration file; check the path/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: aes67-dut --config FILE/);
  });

  it('configuration files: the file, the key and the fix, exit 2', async () => {
    write('in.sdp', GOOD_SDP);
    write('in96.sdp', GOOD_SDP.replace('L24/48000/2', 'L24/96000/2'));
    const tx = { id: 'out', destination: '239.69.134.60:5004', ptimeUs: 1000 };
    const cases: Array<[string, string, RegExp]> = [
      ['syntax.json', '{\n  "interface": "lo",\n  "device": { "inputChannels": 8, }\n}\n', /syntax\.json:3:\d+: not valid JSON .*; fix the syntax there/],
      ['noif.json', '{}', /noif\.json: interface: is missing; name the network interface the DUT uses, e\.g\. "eth0"/],
      ['typo.json', config({ tx: [{ ...tx, ptime: 1 }] }), /typo\.json: tx\[0\]\.ptime: is not a key aes67-dut knows here; the keys are: .*ptimeUs/],
      ['ptime.json', config({ tx: [{ ...tx, ptimeUs: 100 }] }), /ptime\.json: tx\[0\]\.ptimeUs: 100 µs is not a whole number of frames at 48000 Hz; use 125, 250, 333, 1000 or 4000/],
      ['dest.json', config({ tx: [{ ...tx, destination: '239.69.1.1' }] }), /dest\.json: tx\[0\]\.destination: "239\.69\.1\.1" is not an IPv4 address and port; write it as "239\.69\.1\.2:5004"/],
      ['enc.json', config({ tx: [{ ...tx, encoding: 'L20' }] }), /enc\.json: tx\[0\]\.encoding: "L20" is not an encoding the device sends; use "L16", "L24" or "L32"/],
      ['map.json', config({ tx: [{ ...tx, channels: 2, channelMap: [1] }] }), /map\.json: tx\[0\]\.channelMap: has 1 entries for 2 channels; give one device output channel \(1-based\) per stream channel/],
      ['rate.json', config({ device: { sampleRate: 44000 } }), /rate\.json: device\.sampleRate: 44000 Hz is not a rate the device runs at; use 44100, 48000/],
      ['buffer.json', config({ device: { ioBufferFrames: 8 } }), /buffer\.json: device\.ioBufferFrames: 8 is out of range: use 16-4096/],
      ['sdpfile.json', config({ rx: [{ sdpFile: 'missing.sdp' }] }), /sdpfile\.json: rx\[0\]\.sdpFile: cannot read '.*missing\.sdp'; give the path of an SDP file/],
      ['sdp96.json', config({ rx: [{ sdpFile: 'in96.sdp' }] }), /sdp96\.json: rx\[0\]\.sdpFile: the stream runs at 96000 Hz and the device at 48000 Hz; set device\.sampleRate to match/],
      ['badsdp.json', config({ rx: [{ sdp: 'v=0\r\n' }] }), /badsdp\.json: rx\[0\]\.sdp: the SDP cannot be received: .*o=/],
      ['both.json', config({ rx: [{ sdp: GOOD_SDP, sap: 'x' }] }), /both\.json: rx\[0\]: an RX stream needs exactly one of "sdpFile" \(a path\), "sdp" \(the SDP text\), "sap" \(a SAP session name\) or "rtsp"/],
      ['rtsp.json', config({ rx: [{ rtsp: 'rtsp://studio.local/by-name/x' }] }), /rtsp\.json: rx\[0\]\.rtsp: the host of "rtsp:\/\/studio\.local\/by-name\/x" must be an IPv4 address/],
      ['rtspurl.json', config({ rx: [{ rtsp: 'http://10.0.0.1/x' }] }), /rtspurl\.json: rx\[0\]\.rtsp: .*http:\/\/10\.0\.0\.1\/x/],
      ['timing.json', config({ rx: [{ sdp: GOOD_SDP, timing: 'ptp' }] }), /timing\.json: rx\[0\]\.timing: "ptp" is not a timing; use "sender"/],
      ['ctl.json', config({ control: { listen: '0.0.0.0:8067' } }), /ctl\.json: control\.listen: "0\.0\.0\.0:8067" is not on loopback/],
      ['domain.json', config({ ptp: { domain: 200 } }), /domain\.json: ptp\.domain: 200 is out of range: use 0-127/],
      ['loop.json', config({ loopback: [1, 2, 99] }), /loop\.json: loopback\[2\]: 99 is out of range: use 0-8/],
      ['nointerface.json', JSON.stringify({ interface: 'a67dx-none0' }), /nointerface\.json: interface: 'a67dx-none0' cannot be used .*; name an interface with an IPv4 address/],
      ['outch.json', config({ tx: [{ ...tx, channelMap: [1, 9] }] }), /outch\.json: tx\[0\]: stream 'out': output channel 9 does not exist \(the device has 8\); fix or remove this stream/],
    ];
    for (const [name, text, message] of cases) {
      const r = await run(['--config', write(name, text), '--check']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(message);
      expect(r.stdout, `${name}: nothing started`).not.toMatch(/ready|control on/);
    }
    // The good one: --check says so and exits 0 without running.
    const good = await run(['--config', write('good.json', config({ rx: [{ sdpFile: 'in.sdp', channels: [3, 4] }], tx: [tx] })), '--check', '--state-dir', path.join(dir, 'none')]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/good\.json is good: interface lo, 1 RX, 1 TX, PTP off/);
  });
});

describe.skipIf(built !== undefined || live !== undefined)(`aes67-dut control endpoint, saved streams and clean stop (${live ?? built ?? 'root, tshark'})`, () => {
  let net: Netns | undefined;
  const running: DutProcess[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'a67dxl-'));
  afterAll(async () => {
    for (const d of running) await d.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds and removes streams, saves them, keeps a corrupt state file aside, stays bounded, stops cleanly with SAP deletions', async () => {
    net = createNetns({ prefix: 'a67dxl', hosts: ['dut', 'cap'], subnet: SUBNET });
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir);
    const sock = path.join(dir, 'dut.sock');
    const file = path.join(dir, 'dut.json');
    writeFileSync(
      file,
      JSON.stringify({
        interface: 'eth0',
        device: { inputChannels: 8, outputChannels: 8, ioBufferFrames: 64, linkOffsetFrames: 96 },
        tx: [{ id: 'first', destination: `239.69.${SUBNET}.1:5004`, ptimeUs: 1000 }],
        sap: { intervalSeconds: 1 },
        control: { listen: `unix:${sock}`, maxConnections: 2, maxRequestBytes: 4096 },
        stateDir,
      }),
    );
    const start = async () => {
      const d = await attachDut(net!.spawn('dut', DUT_BINARY, ['--config', file]));
      running.push(d);
      return d;
    };

    let dut = await start();
    // POST a TX and an RX stream; bad requests are refused with the key and the fix.
    expect(await dut.client.addStream({ kind: 'tx', id: 'second', destination: `239.69.${SUBNET}.2:5004`, encoding: 'L16', ptimeUs: 125, channelMap: [3, 4] })).toBe('second');
    expect(await dut.client.addStream({ kind: 'rx', id: 'in', sdp: GOOD_SDP.replace('239.69.134.50', `239.69.${SUBNET}.50`), channels: [5, 6] })).toBe('in');
    await expect(dut.client.addStream({ kind: 'tx', id: 'bad', destination: '239.69.1.1:5004', ptimeUs: 100 })).rejects.toThrow(/400: request: ptimeUs: 100 µs is not a whole number of frames/);
    await expect(dut.client.addStream({ kind: 'tx', id: 'second', destination: '239.69.1.1:5004' })).rejects.toThrow(/400: .*stream id 'second' is already in use/);
    await expect(dut.client.addStream({ kind: 'rx', id: 'clash', sdp: GOOD_SDP, channels: [5, 7] })).rejects.toThrow(/400: .*both map to device input channel 5/);
    await expect(dut.client.addStream({ kind: 'tv' } as never)).rejects.toThrow(/400: request: kind: "tv" is not a stream kind; use "rx" or "tx"/);
    const sdp = await dut.client.sdp('second');
    expect(sdp).toMatch(/a=rtpmap:96 L16\/48000\/2\r\na=source-filter: incl IN IP4 239\.69\.134\.2 10\.67\.134\.1\r\na=ptime:0\.125\r\n/);
    expect(await dut.client.sdp('in')).toContain('s=In');
    let status = await dut.client.status();
    expect(status.streams.tx.map((t) => t.id)).toEqual(['first', 'second']);
    expect(status.streams.rx.map((r) => [r.id, r.channels])).toEqual([['in', [5, 6]]]);
    // Both patched in while IO runs: no configuration change (issue 9; it was one each).
    expect(status.device.counters.configurationChanges).toBe(0);
    expect(status.device.counters.ioErrors).toBe(0);
    await dut.client.removeStream('first');
    await expect(dut.client.removeStream('first')).rejects.toThrow(/404: no stream 'first'/);
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'dut.streams.json'), 'utf8')) as { tx: Array<{ id: string }>; rx: Array<{ id: string }> };
    expect(saved.tx.map((t) => t.id)).toEqual(['second']);
    expect(saved.rx.map((r) => r.id)).toEqual(['in']);
    expect(readFileSync(path.join(stateDir, 'dut.streams.json.last-good'), 'utf8')).toBe(readFileSync(path.join(stateDir, 'dut.streams.json'), 'utf8'));

    // Bounds: a request larger than 4096 bytes gets 413; a third connection gets 503.
    const big = await dut.client.request('POST', '/streams', JSON.stringify({ kind: 'rx', sdp: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    const idle = [connect(sock), connect(sock)];
    await sleep(200);
    const third = await dut.client.request('GET', '/status');
    expect(third.status).toBe(503);
    for (const s of idle) s.destroy();
    await sleep(100);
    expect((await dut.client.request('GET', '/status')).status).toBe(200);

    // Restart: the saved streams come back (the file's 'first' does not: the saved set rules).
    expect(await dut.stop()).toBe(0);
    dut = await start();
    status = await dut.client.status();
    expect(status.streams.tx.map((t) => t.id)).toEqual(['second']);
    expect(status.configuration.streamsFrom).toMatch(/saved streams .*dut\.streams\.json/);
    expect(await dut.client.sdp('second')).toMatch(/^o=- \d+ 2 IN IP4/m); // a restarted device announces a newer version
    expect(await dut.stop()).toBe(0);

    // A corrupt state file is reported, moved aside, and the last good copy used: nothing lost.
    writeFileSync(path.join(stateDir, 'dut.streams.json'), '{"schemaVersion": 1, "tx": [ {"id": ');
    dut = await start();
    status = await dut.client.status();
    expect(status.configuration.stateProblem).toMatch(/dut\.streams\.json' is unusable: .*It was moved to '.*dut\.streams\.json\.corrupt-\d{8}T\d{6}Z'\. Using the previous good configuration/);
    expect(status.streams.tx.map((t) => t.id)).toEqual(['second']);
    expect(readdirSync(stateDir).some((f) => /dut\.streams\.json\.corrupt-/.test(f))).toBe(true);
    expect(dut.stderr).toMatch(/is unusable/);

    // SIGTERM: exit 0 after SAP deletions, as tshark reads them on the wire.
    const capture = net.spawn('cap', 'tshark', ['-i', 'eth0', '-l', '-f', 'udp port 9875', '-T', 'fields', '-E', 'separator=|', '-e', 'sap.flags.t', '-e', 'sdp.session_name']);
    const captured = collect(capture);
    await sleep(2_500);
    expect(await dut.stop()).toBe(0);
    expect(dut.stderr).toMatch(/stopped \(IO stopped, SAP deletions sent\)/);
    await sleep(500);
    capture.kill('SIGINT');
    await captured.exited;
    const lines = captured.stdout.split('\n').filter((l) => l.includes('|')).map((l) => l.split('|'));
    expect(lines.some(([t]) => t === '0'), `announcements heard:\n${captured.stdout}`).toBe(true);
    expect(lines.some(([t]) => t === '1'), `a deletion heard:\n${captured.stdout}${captured.stderr}`).toBe(true);
    expect(existsSync(sock), 'the control socket is removed').toBe(false);
  }, 90_000);
});
