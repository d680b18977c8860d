import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { startBrowserHost, type BrowserHost } from '../../electron/kiosk/serve/browser-host.js';
import { hashPin } from '../../electron/security/pin-hash.js';
import { KIOSK_CHANNELS, MAX_REQUEST_BYTES } from '../../shared/kiosk/contract.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { setLogSink } from '../../shared/logger.js';
import { recordTally } from '../support/fault-tally.js';
import { CLI } from '../support/run-cli.js';

/**
 * Hostile input at the kiosk bridge (issue 8): a real `clockface kiosk serve` process is sent every kind of bad
 * request over raw HTTP (so that Host and Origin can be forged, which fetch does not allow), and KioskService.handle
 * gets the same in-process where timing between requests matters (parallel PIN guesses). Central is unreachable on
 * purpose (port 9): nothing here may need it. Every hostile request is counted for the faults table.
 */

const EMPLOYEE_PIN = '2468';
const ADMIN_PIN = '9999';
const MAX_FAILURES = 5; // DEFAULT_PIN_GUARD: what `kiosk serve` runs with

/** Hostile requests of the running test; recorded by {@link flush} only once that test's assertions have passed. */
const pending = new Map<string, number>();
const tried = new Map<string, number>();
const count = (kind: string, n = 1): void => {
  pending.set(kind, (pending.get(kind) ?? 0) + n);
};
function flush(): void {
  for (const [kind, n] of pending) {
    tried.set(kind, (tried.get(kind) ?? 0) + n);
    recordTally({ area: 'hostile', kind, count: n, outcome: outcomeOf(kind) });
  }
  pending.clear();
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One raw HTTP request; a connection the server cuts resolves as status 0 (never a hang or a throw). */
function raw(
  origin: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? 'POST', path: options.path, headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
      },
    );
    req.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function settingsFor(dir: string, adminPinHash: string): void {
  writeKioskSettings(dir, {
    kioskName: 'hostile-door',
    site: 'hq',
    roleName: 'clockface_kiosk_hostile',
    url: 'postgres://nobody:secret@127.0.0.1:9/none',
    kioskId: 1,
    engine: 'js',
    centralFallback: false,
    pollSeconds: 3600,
    uploadBatchSize: 500,
    adminPinHash,
    policy: {},
  });
}

/** A kiosk folder with one employee who has a PIN, and an admin PIN set. */
async function makeKioskDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  settingsFor(dir, await hashPin(ADMIN_PIN));
  const core = KioskCore.open(dir);
  core.db
    .prepare("INSERT INTO employees (id, employee_no, full_name, site, active, pin_hash) VALUES (7, 'E-7', 'Seven', 'hq', 1, ?)")
    .run(await hashPin(EMPLOYEE_PIN));
  core.close();
  return dir;
}

const frame = { modelId: FACE_MODEL_ID, descriptor: Array<number>(128).fill(0.01), issues: [], yaw: 0 };

describe('hostile input at the kiosk bridge', () => {
  let dir: string;
  let child: ChildProcess | null = null;
  let origin = '';
  let token = '';

  /** `clockface kiosk serve` as a real child process; resolves with the address it prints. */
  const serve = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOCKFACE_')));
      const proc = spawn(process.execPath, [CLI, 'kiosk', 'serve', '--kiosk-dir', dir, '--port', '0'], {
        env: { ...env, CLOCKFACE_LOG_LEVEL: 'error' },
      });
      child = proc;
      let out = '';
      let err = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const url = /open (http:\/\/\S+)/.exec(out)?.[1];
        if (url) {
          const u = new URL(url);
          origin = u.origin;
          token = u.hash.replace('#token=', '');
          resolve();
        }
      });
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.on('exit', (code) => reject(new Error(`kiosk serve exited (${String(code)}): ${err}`)));
    });

  const killServe = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
    child = null;
  };

  /** A request from the kiosk's own screen: right Host, right token, no foreign Origin. */
  const api = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
    raw(origin, {
      path: `/api/${channel}`,
      headers: { 'Content-Type': 'application/json', 'X-Clockface-Token': token, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const bridgeCode = (r: Reply): string | null => {
    try {
      const v = JSON.parse(r.body) as { ok?: boolean; error?: { code?: string } };
      return v.ok === false ? (v.error?.code ?? null) : null;
    } catch {
      return null;
    }
  };
  const expectStillServing = async (): Promise<void> => {
    const status = await api('getStatus', {});
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ ok: true, value: { kioskName: 'hostile-door' } });
  };
  const punchesStored = (): number => {
    const core = KioskCore.open(dir);
    try {
      return (core.db.prepare('SELECT count(*) AS n FROM punches').get() as { n: number }).n;
    } finally {
      core.close();
    }
  };

  beforeEach(() => pending.clear());
  // Hundreds of refused requests would each log a warning from the in-process services: keep errors only.
  setLogSink(({ level, scope, message, fields }) => {
    if (level === 'error') console.error(`[${scope}] ${message}`, fields);
  });
  beforeAll(async () => {
    dir = await makeKioskDir('clockface-hostile-bridge-');
    await serve();
  });
  afterAll(async () => {
    await killServe();
    rmSync(dir, { recursive: true, force: true });
    const total = [...tried.values()].reduce((a, b) => a + b, 0);
    console.log(`[hostile-bridge] hostile requests tried: ${total}`, Object.fromEntries(tried));
  });

  it('the control request passes: right Host, right token, no foreign Origin (so the refusals below mean something)', async () => {
    await expectStillServing();
    expect((await api('getStatus', {}, { Origin: origin })).status).toBe(200);
    expect((await api('getStatus', {}, { Host: `localhost:${new URL(origin).port}` })).status).toBe(200);
  });

  it('no token, a wrong token, another Origin, another Host (DNS rebinding): refused before anything runs', async () => {
    const port = new URL(origin).port;
    const wrongTokens: Array<Record<string, string>> = [
      {},
      { 'X-Clockface-Token': '' },
      { 'X-Clockface-Token': 'x'.repeat(token.length) },
      { 'X-Clockface-Token': `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` },
      { 'X-Clockface-Token': token.slice(0, -1) },
      { 'X-Clockface-Token': `${token}x` },
      { 'X-Clockface-Token': `${token} ${token}` },
      { 'X-Clockface-Token': token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase() },
      { Authorization: `Bearer ${token}` },
      { Cookie: `token=${token}` },
    ];
    for (const headers of wrongTokens) {
      for (const channel of ['getStatus', 'punchWithPin', 'submitFrame']) {
        const r = await raw(origin, { path: `/api/${channel}`, headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
        expect(r.status, JSON.stringify(headers)).toBe(401);
        expect(bridgeCode(r)).toBe('BRIDGE_INVALID');
        count('bridge: missing or wrong token');
      }
    }
    // The token travels in a header only; in the query string (where logs and Referer leak it) it does not count.
    const inQuery = await raw(origin, { path: `/api/getStatus?token=${token}`, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(inQuery.status).toBe(401);
    count('bridge: missing or wrong token');
    // The status stream needs it too.
    for (const q of ['', '?token=', `?token=${token.slice(1)}`]) {
      const r = await raw(origin, { method: 'GET', path: `/api/events${q}` });
      expect(r.status).toBe(401);
      count('bridge: missing or wrong token');
    }

    const foreignOrigins = [
      'http://evil.example',
      'null',
      `http://127.0.0.1:${Number(port) + 1}`,
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1.evil.example:${port}`,
      `${origin}.evil.example`,
      `${origin}/`,
      'file://',
      'chrome-extension://abcdefghijklmnop',
    ];
    for (const o of foreignOrigins) {
      const r = await api('getStatus', {}, { Origin: o });
      expect(r.status, o).toBe(403);
      count('bridge: foreign Origin');
    }
    const sse = await raw(origin, { method: 'GET', path: `/api/events?token=${token}`, headers: { Origin: 'http://evil.example' } });
    expect(sse.status).toBe(403);
    count('bridge: foreign Origin');

    const foreignHosts = [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `localhost.evil.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
      `[::1]:${port}`,
      `0.0.0.0:${port}`,
      `127.0.0.1:${port}.evil.example`,
    ];
    for (const h of foreignHosts) {
      // The bridge and the page itself: a rebinding page must get neither.
      const r = await api('getStatus', {}, { Host: h });
      expect(r.status, h).toBe(421);
      const page = await raw(origin, { method: 'GET', path: '/', headers: { Host: h } });
      expect(page.status, h).toBe(421);
      expect(page.body).not.toContain('<script');
      count('bridge: foreign Host header (DNS rebinding)', 2);
    }
    // No Host header at all (HTTP/1.0), on a raw socket since http.request always adds one.
    for (const path of ['/', '/api/getStatus']) {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), new URL(origin).hostname);
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
        socket.write(`POST ${path} HTTP/1.0\r\nX-Clockface-Token: ${token}\r\nContent-Length: 2\r\n\r\n{}`);
      });
      expect(answer, path).toMatch(/^HTTP\/1\.1 (421|400)/);
      count('bridge: foreign Host header (DNS rebinding)');
    }
    expect(punchesStored()).toBe(0);
    await expectStillServing();
    flush();
  });

  it('malformed requests on every channel get BRIDGE_INVALID or a 4xx, never a crash, a 500 or a punch', async () => {
    const d = (values: unknown[]) => ({ ...frame, descriptor: values });
    const descriptorCases: unknown[] = [
      d([]),
      d(Array(127).fill(0.1)),
      d(Array(129).fill(0.1)),
      d(Array(10_000).fill(0.1)),
      d([...Array(127).fill(0.1), '0.1']),
      d([...Array(127).fill(0.1), null]),
      d([...Array(127).fill(0.1), true]),
      d([...Array(127).fill(0.1), [0.1]]),
      d([...Array(127).fill(0.1), { valueOf: 0.1 }]),
      { ...frame, descriptor: '0.1,'.repeat(128) },
      { ...frame, descriptor: { length: 128 } },
      { ...frame, descriptor: Object.fromEntries(Array.from({ length: 128 }, (_, i) => [i, 0.1])) },
      { ...frame, issues: ['NOT_AN_ISSUE'] },
      { ...frame, issues: Array(50).fill('NO_FACE') },
      { ...frame, yaw: 1e308 },
      { ...frame, yaw: '0' },
      { ...frame, modelId: 'm'.repeat(10_000) },
      { ...frame, modelId: '' },
      { descriptor: frame.descriptor, issues: [], yaw: 0 },
    ];
    for (const body of descriptorCases) {
      const r = await api('submitFrame', body);
      expect(r.status).toBe(200);
      expect(bridgeCode(r), JSON.stringify(body).slice(0, 120)).toBe('BRIDGE_INVALID');
      // The error names the field, never echoes the values it was sent.
      expect(r.body.length).toBeLessThan(400);
      count('bridge: invalid descriptor or frame');
    }
    // Not-finite numbers: JSON has no NaN, but 1e999 parses to Infinity.
    const text = JSON.stringify(frame);
    for (const [from, to] of [
      ['0.01', '1e999'],
      ['0.01', '-1e999'],
      ['0.01', 'NaN'],
      ['0.01', 'Infinity'],
      ['0.01', '-0.01e400'],
    ] as const) {
      const r = await api('submitFrame', text.replace(from, to));
      expect([200, 400]).toContain(r.status);
      expect(bridgeCode(r)).toBe('BRIDGE_INVALID');
      count('bridge: NaN or Infinity in a descriptor');
    }
    // A deeply nested array where the descriptor should be: refused without recursing into it.
    const depth = 40_000;
    const nested = `{"modelId":"${FACE_MODEL_ID}","issues":[],"yaw":0,"descriptor":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(nested.length).toBeLessThan(MAX_REQUEST_BYTES);
    const deep = await api('submitFrame', nested);
    expect([200, 400]).toContain(deep.status);
    expect(bridgeCode(deep)).toBe('BRIDGE_INVALID');
    count('bridge: nested huge arrays');
    // In-process, as Electron's IPC delivers them (structured clone carries NaN and Infinity, JSON cannot).
    {
      const local = await makeKioskDir('clockface-hostile-nan-');
      const core = KioskCore.open(local);
      const service = new KioskService(core, { follow: false });
      try {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE * 2]) {
          for (const at of [0, 64, 127]) {
            const values = Array<number>(128).fill(0.01);
            values[at] = bad;
            expect(await service.handle('submitFrame', d(values))).toMatchObject({ ok: false, error: { code: 'BRIDGE_INVALID' } });
            const enrol = await service.handle('enrolEmployee', { adminToken: 'a'.repeat(32), employeeNo: 'X', fullName: 'X', descriptors: [values] });
            expect(enrol).toMatchObject({ ok: false, error: { code: 'BRIDGE_INVALID' } });
            count('bridge: NaN or Infinity in a descriptor', 2);
          }
        }
        expect(core.db.prepare('SELECT count(*) AS n FROM punches').get()).toEqual({ n: 0 });
      } finally {
        await service.stop();
        core.close();
        rmSync(local, { recursive: true, force: true });
      }
    }
    const wide = await api('submitFrame', d(Array.from({ length: 128 }, () => Array(100).fill(0.1))));
    expect(bridgeCode(wide)).toBe('BRIDGE_INVALID');
    count('bridge: nested huge arrays');

    // Every channel, with bodies of the wrong shape.
    const shapes: unknown[] = [null, [], 'a string', 42, true, { adminToken: 0 }, { pin: 1234 }, { employeeNo: ['E-7'], pin: [EMPLOYEE_PIN] }];
    for (const channel of KIOSK_CHANNELS) {
      for (const body of shapes) {
        const r = await api(channel, JSON.stringify(body));
        // {} is a valid request for getStatus / resetFrames: extra keys are dropped. Everything else is refused.
        if (r.status === 200 && bridgeCode(r) === null) {
          expect(['getStatus', 'resetFrames'], `${channel} accepted ${JSON.stringify(body)}`).toContain(channel);
          expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true);
        } else {
          expect(r.status).toBe(200);
          expect(bridgeCode(r), `${channel} ${JSON.stringify(body)}`).toBe('BRIDGE_INVALID');
        }
        count('bridge: request of the wrong shape (every channel)');
      }
    }
    const pins: unknown[] = ['123', '123456789', '12a4', ' 1234', '1234\n', '١٢٣٤', "1' OR '1'='1", '', 1234];
    for (const pin of pins) {
      const r = await api('punchWithPin', { employeeNo: 'E-7', pin });
      expect(bridgeCode(r), String(pin)).toBe('BRIDGE_INVALID');
      count('bridge: malformed PIN');
    }
    for (const employeeNo of ['', 'E'.repeat(65), 7, null]) {
      const r = await api('punchWithPin', { employeeNo, pin: '1234' });
      expect(bridgeCode(r), String(employeeNo)).toBe('BRIDGE_INVALID');
      count('bridge: malformed PIN');
    }
    const tooMany = await api('enrolEmployee', {
      adminToken: 'a'.repeat(32),
      employeeNo: 'X',
      fullName: 'X',
      descriptors: Array.from({ length: 11 }, () => frame.descriptor),
    });
    expect(bridgeCode(tooMany)).toBe('BRIDGE_INVALID');
    count('bridge: invalid descriptor or frame');

    // Bodies that are not JSON at all, whatever the Content-Type says.
    const notJson: Array<[string, string]> = [
      ['application/json', ''],
      ['application/json', '{'],
      ['application/json', "{'pin':'1234'}"],
      ['application/json', '{"employeeNo":"E-7","pin":"2468"} trailing'],
      ['application/json', 'undefined'],
      ['application/json', '\uFEFF{}'],
      ['application/json', '{"a":1,}'],
      ['application/x-www-form-urlencoded', 'employeeNo=E-7&pin=2468'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="pin"\r\n\r\n2468\r\n--x--\r\n'],
      ['text/plain', 'employeeNo=E-7'],
      ['application/xml', '<pin>2468</pin>'],
    ];
    for (const [type, body] of notJson) {
      const r = await raw(origin, { path: '/api/punchWithPin', headers: { 'Content-Type': type, 'X-Clockface-Token': token }, body });
      expect(r.status, `${type}: ${body}`).toBe(400);
      expect(bridgeCode(r)).toBe('BRIDGE_INVALID');
      count('bridge: malformed JSON or wrong content type');
    }
    // Methods other than POST.
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw(origin, { method, path: '/api/getStatus', headers: { 'X-Clockface-Token': token } });
      expect(r.status, method).toBe(405);
      count('bridge: wrong method');
    }
    expect(punchesStored()).toBe(0);
    await expectStillServing();
    flush();
  });

  it('unknown channels and prototype keys are refused; nothing is polluted', async () => {
    const channels = [
      'dropTables',
      '__proto__',
      'constructor',
      'prototype',
      'hasOwnProperty',
      'toString',
      'valueOf',
      'SUBMITFRAME',
      'submitFrame%00',
      'getStatus%20',
      '%5F%5Fproto%5F%5F',
      'x'.repeat(5_000),
      '',
      'getStatus/extra',
      '..%2F..%2Fetc%2Fpasswd',
    ];
    for (const channel of channels) {
      const r = await api(channel, {});
      expect([200, 404]).toContain(r.status);
      if (r.status === 200) {
        expect(bridgeCode(r), channel).toBe('BRIDGE_INVALID');
        // The channel is echoed at most 40 characters long.
        expect(r.body.length).toBeLessThan(200);
      }
      count('bridge: unknown channel');
    }
    const badEncoding = await api('%E0%A4%A', {});
    expect(badEncoding.status).toBe(400);
    expect(bridgeCode(badEncoding)).toBe('BRIDGE_INVALID');
    count('bridge: unknown channel');

    const pollution = [
      '{"__proto__":{"polluted":"yes","adminToken":"aaaaaaaaaaaaaaaaaaaa"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"employeeNo":"E-7","pin":"0001","__proto__":{"pin":"2468"}}',
    ];
    for (const channel of KIOSK_CHANNELS) {
      for (const body of pollution) {
        const r = await api(channel, body);
        expect(r.status).toBe(200);
        count('bridge: prototype-pollution keys');
      }
    }
    await expectStillServing();

    // In-process, where pollution would be visible: Object.prototype stays clean and an admin-only channel stays shut.
    const local = await makeKioskDir('clockface-hostile-proto-');
    const core = KioskCore.open(local);
    const service = new KioskService(core, { follow: false });
    try {
      for (const channel of [...KIOSK_CHANNELS, '__proto__', 'constructor']) {
        for (const body of pollution) {
          await service.handle(channel, JSON.parse(body));
          count('bridge: prototype-pollution keys');
        }
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('adminToken');
      expect(await service.handle('syncNow', JSON.parse('{"__proto__":{"adminToken":"aaaaaaaaaaaaaaaaaaaa"}}'))).toMatchObject({
        ok: false,
        error: { code: 'BRIDGE_INVALID' },
      });
      flush();
    } finally {
      await service.stop();
      core.close();
      rmSync(local, { recursive: true, force: true });
    }
  });

  it('bodies over the limit get 413 (or a cut connection), and the kiosk keeps serving', async () => {
    const sizes = [MAX_REQUEST_BYTES + 1, MAX_REQUEST_BYTES * 2, MAX_REQUEST_BYTES * 9, MAX_REQUEST_BYTES * 40];
    for (const size of sizes) {
      const pad = 'x'.repeat(size);
      const r = await api('submitFrame', `{"pad":"${pad}"}`);
      // Up to ten times the limit the body is read and dropped (the client gets its 413); beyond, the socket is cut.
      if (size <= MAX_REQUEST_BYTES * 10) expect(r.status, String(size)).toBe(413);
      else expect([0, 413]).toContain(r.status);
      count('bridge: payload over 128 KiB');
    }
    // Just under the limit, valid JSON with junk keys: read, then refused by the schema or stripped.
    const near = await api('submitFrame', { ...frame, descriptor: null, issues: ['NO_FACE'], junk: 'y'.repeat(MAX_REQUEST_BYTES - 500) });
    expect(near.status).toBe(200);
    count('bridge: payload over 128 KiB');
    // A Content-Length that lies (says small, sends more): the server reads what the header says and no more.
    await expectStillServing();
    flush();
  });

  it('employee and admin PIN brute force: parallel guesses stay within the limit, and the lock survives SIGKILL', async () => {
    const guesses = 30;
    const wrong = Array.from({ length: guesses }, (_, i) => String(1000 + i));
    const employee = await Promise.all(wrong.map((pin) => api('punchWithPin', { employeeNo: 'E-7', pin })));
    const kinds = employee.map((r) => (JSON.parse(r.body) as { value?: { kind?: string } }).value?.kind);
    count('PIN brute force: employee PIN guesses', guesses);
    expect(kinds.filter((k) => k === 'wrong').length).toBeLessThanOrEqual(MAX_FAILURES - 1);
    expect(kinds.filter((k) => k === 'locked').length).toBeGreaterThanOrEqual(guesses - MAX_FAILURES + 1);
    expect(kinds.every((k) => k === 'wrong' || k === 'locked')).toBe(true);

    const admin = await Promise.all(wrong.map((pin) => api('unlockAdmin', { pin })));
    const codes = admin.map(bridgeCode);
    count('PIN brute force: admin PIN guesses', guesses);
    expect(codes.filter((c) => c === 'ADMIN_PIN_WRONG').length).toBeLessThanOrEqual(MAX_FAILURES - 1);
    expect(codes.filter((c) => c === 'ADMIN_LOCKED').length).toBeGreaterThanOrEqual(guesses - MAX_FAILURES + 1);

    // The right PINs are refused now, and still after the kiosk process is killed and started again.
    for (let round = 0; round < 2; round++) {
      const right = await api('punchWithPin', { employeeNo: 'E-7', pin: EMPLOYEE_PIN });
      expect(JSON.parse(right.body)).toMatchObject({ ok: true, value: { kind: 'locked' } });
      const unlock = await api('unlockAdmin', { pin: ADMIN_PIN });
      expect(bridgeCode(unlock)).toBe('ADMIN_LOCKED');
      count('PIN brute force: employee PIN guesses');
      count('PIN brute force: admin PIN guesses');
      if (round === 0) {
        await killServe();
        await serve();
      }
    }
    expect(punchesStored()).toBe(0);
    flush();
  });

  it('in-process: guesses sent all at once are counted before they are checked, so the right PIN sent last is locked out', async () => {
    const local = await makeKioskDir('clockface-hostile-pins-');
    const core = KioskCore.open(local);
    // The per-number lock under test; the kiosk-wide limit on wrong PINs (20 per 15 min, across all numbers) would
    // otherwise lock the pad after the first 20 guesses here. It has its own test in test/kiosk/kiosk-service.test.ts.
    const service = new KioskService(core, { follow: false, pinSpray: { maxFailures: 1_000, windowMinutes: 15, lockMinutes: 15 } });
    try {
      for (const [channel, right, subject] of [
        // Counted under the number case-folded ("e-7" and "E-7" share one count).
        ['punchWithPin', { employeeNo: 'E-7', pin: EMPLOYEE_PIN }, 'e-7'],
        ['unlockAdmin', { pin: ADMIN_PIN }, '*admin*'],
      ] as const) {
        const wrongGuesses = Array.from({ length: 19 }, (_, i) =>
          channel === 'punchWithPin' ? { employeeNo: 'E-7', pin: String(5000 + i) } : { pin: String(5000 + i) },
        );
        // Not awaited one by one: all twenty are in flight before the first scrypt check finishes.
        const results = await Promise.all([...wrongGuesses, right].map((body) => service.handle(channel, body)));
        count(channel === 'punchWithPin' ? 'PIN brute force: employee PIN guesses' : 'PIN brute force: admin PIN guesses', 20);
        const last = results.at(-1);
        if (channel === 'punchWithPin') expect(last).toMatchObject({ ok: true, value: { kind: 'locked' } });
        else expect(last).toMatchObject({ ok: false, error: { code: 'ADMIN_LOCKED' } });
        const row = core.db.prepare('SELECT failures, locked_until FROM pin_attempts WHERE subject = ?').get(subject) as
          | { failures: number; locked_until: string | null }
          | undefined;
        expect(row?.failures).toBe(MAX_FAILURES);
        expect(row?.locked_until).not.toBeNull();
      }
      // An unknown employee number is guessed at like a known one: the same lock, so the screen reveals nothing.
      const unknown = await Promise.all(Array.from({ length: 10 }, (_, i) => service.handle('punchWithPin', { employeeNo: 'NOBODY', pin: String(7000 + i) })));
      count('PIN brute force: employee PIN guesses', 10);
      expect(unknown.filter((r) => r.ok && (r.value as { kind: string }).kind === 'locked').length).toBe(10 - MAX_FAILURES + 1);
      expect(core.db.prepare('SELECT count(*) AS n FROM punches').get()).toEqual({ n: 0 });
      flush();
    } finally {
      await service.stop();
      core.close();
      rmSync(local, { recursive: true, force: true });
    }
  });

  it('slow-drip requests are cut by the request timeout while other requests are served', async () => {
    const local = await makeKioskDir('clockface-hostile-drip-');
    const core = KioskCore.open(local);
    const service = new KioskService(core, { follow: false });
    let bridge: BrowserHost | null = null;
    try {
      bridge = await startBrowserHost(service, { port: 0, token: 'drip-token-0123456789abcdef', requestTimeoutMs: 1_000 });
      const { hostname, port } = new URL(bridge.origin);
      const drip = (kind: 'body' | 'headers'): Promise<{ sent: number; total: number; answer: string }> =>
        new Promise((resolve) => {
          const socket = connect(Number(port), hostname);
          const body = JSON.stringify({ employeeNo: 'E-7', pin: '0000', pad: 'p'.repeat(200) });
          const head =
            `POST /api/punchWithPin HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
            `X-Clockface-Token: drip-token-0123456789abcdef\r\nContent-Length: ${body.length}\r\n\r\n`;
          // Body drip: the headers at once, then a byte every 100 ms. Header drip: the headers themselves trickle.
          const payload = kind === 'body' ? body : head;
          let sent = 0;
          let answer = '';
          let timer: NodeJS.Timeout | undefined;
          const finish = () => {
            clearInterval(timer);
            resolve({ sent, total: payload.length, answer });
          };
          socket.on('data', (d: Buffer) => (answer += d.toString()));
          socket.on('close', finish);
          socket.on('error', () => undefined);
          socket.on('connect', () => {
            if (kind === 'body') socket.write(head);
            timer = setInterval(() => {
              // Give up after 80 bytes (8 s): a server that has not cut the connection by then has no timeout.
              if (sent >= Math.min(payload.length, 80)) {
                socket.destroy();
                return;
              }
              socket.write(payload[sent] ?? '');
              sent++;
            }, 100);
          });
        });
      const [body, headers, status] = await Promise.all([
        drip('body'),
        drip('headers'),
        (async () => {
          await new Promise((r) => setTimeout(r, 300));
          return raw(bridge?.origin ?? '', {
            path: '/api/getStatus',
            headers: { 'Content-Type': 'application/json', 'X-Clockface-Token': 'drip-token-0123456789abcdef' },
            body: '{}',
          });
        })(),
      ]);
      count('bridge: slow-drip request', 2);
      expect(status.status).toBe(200);
      for (const d of [body, headers]) {
        // Cut by the server (408 Request Timeout) long before the drip ended.
        expect(d.answer).toMatch(/^HTTP\/1\.1 408/);
        expect(d.sent).toBeLessThan(80);
      }
      expect(core.db.prepare('SELECT count(*) AS n FROM pin_attempts').get()).toEqual({ n: 0 });
      flush();
    } finally {
      await bridge?.close();
      await service.stop();
      core.close();
      rmSync(local, { recursive: true, force: true });
    }
  });

});

function outcomeOf(kind: string): string {
  if (kind.includes('token')) return 'refused 401, nothing run';
  if (kind.includes('Origin')) return 'refused 403, nothing run';
  if (kind.includes('Host')) return 'refused 421 (page and bridge)';
  if (kind.includes('over 128')) return '413 or cut; kiosk kept serving';
  if (kind.includes('slow-drip')) return 'cut with 408 by the request timeout; others served';
  if (kind.includes('PIN brute')) return `at most ${MAX_FAILURES} guesses checked per lock, also in parallel; lock survived SIGKILL`;
  if (kind.includes('malformed JSON') || kind.includes('method')) return 'refused 400/405 BRIDGE_INVALID';
  if (kind.includes('prototype')) return 'keys dropped by the schema or request refused; Object.prototype untouched; admin stayed shut';
  return 'refused BRIDGE_INVALID; no crash, no punch';
}
