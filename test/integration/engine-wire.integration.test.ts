// Bad wire input against real agents: a coordinator agent with a task and a destination agent joined
// to it (no source, so nothing else touches the destination). Frames are built with the engine's own
// encoders, then cut, inflated or pointed outside the root. Each is refused with a clear error (a
// REJECT frame with a stable code where the peer can still read one, and a line in the agent's log),
// nothing is written (the destination stays empty, nothing appears outside it), and the agent goes on
// serving: a correct batch afterwards still lands.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, clientHandshake } from '../../agent/net/connection.ts';
import { encodeFrame, frameHeader } from '../../agent/net/frames.ts';
import { createTlsServer, dialPinned, loadOrCreateIdentity } from '../../agent/net/tls.ts';
import { WireError } from '../../agent/net/wire-error.ts';
import { openDataConn } from '../../agent/engine/data-pool.ts';
import type { BatchAck } from '../../agent/engine/records.ts';
import { FILE_END_OK_LENGTH, FLAG_INLINE, encodeBatchEnd, fileHeadLength, rangeHeadLength, symlinkLength, writeFileDataHeader, writeFileEndOk, writeFileHead, writeRangeHead, writeSymlink } from '../../agent/engine/records.ts';
import { CONTROL_PROTOCOL_VERSION } from '../../agent/protocol/control.ts';
import { TaskSpec } from '../../agent/protocol/task.ts';
import { FrameType, MAX_FRAME_LENGTH, WIRE_PROTOCOL_VERSION } from '../../agent/protocol/wire.ts';
import type { Hello, Reject } from '../../agent/protocol/wire.ts';
import { AgentCallError, ControlClient } from '../../electron/engine-host/control-client.ts';
import { launchAgent } from '../../electron/engine-host/launch.ts';
import type { AgentProcess } from '../../electron/engine-host/launch.ts';
import { buildEngine } from '../helpers/engine-build.ts';
import { removeTree } from '../helpers/make-tree.ts';
import { createHash } from 'node:crypto';

const TASK = 'wire-test';
let tmp = '';
let dst = '';
let coordAgent: AgentProcess;
let destAgent: AgentProcess;
let coordControl: ControlClient;
let taskToken = '';
let batchSeq = 1;
/** Everything the destination agent wrote to stderr (its log). */
let destLog = '';

beforeAll(async () => {
  const b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-wire-'));
  const src = path.join(tmp, 'src');
  dst = path.join(tmp, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  const location = { node: b.node24, bundle: b.agentBundle };
  [coordAgent, destAgent] = await Promise.all([
    launchAgent({ home: path.join(tmp, 'coordinator'), location, env: b.env }),
    launchAgent({ home: path.join(tmp, 'destination'), location, env: b.env }),
  ]);
  destAgent.child.stderr?.on('data', (d: string) => (destLog += d));
  coordControl = await ControlClient.connect(coordAgent.ready.controlPort, coordAgent.token);
  const spec = TaskSpec.parse({ taskId: TASK, sourceRoot: src, destinationRoot: dst });
  const created = await coordControl.call('task.create', { spec });
  taskToken = created.token;
  const destControl = await ControlClient.connect(destAgent.ready.controlPort, destAgent.token);
  await destControl.call('task.join', { taskId: TASK, role: 'destination', root: dst, coordinator: created.coordinator, token: taskToken });
  destControl.close();
}, 120_000);

afterAll(async () => {
  coordControl?.close();
  for (const a of [coordAgent, destAgent]) {
    if (!a) continue;
    a.child.kill('SIGKILL');
    await a.exited;
  }
  removeTree(tmp);
});

// ------------------------------------------------------------------ helpers

function destTarget(fingerprint = destAgent.ready.fingerprint) {
  return { host: '127.0.0.1', port: destAgent.ready.dataPort, fingerprint };
}

function dataHello(over: Partial<Hello> = {}): Hello {
  return { protocolVersion: WIRE_PROTOCOL_VERSION, channel: 'data', taskId: TASK, token: taskToken, agentId: 'agent-wire-test', agentVersion: 'test', ...over };
}

async function openData(): Promise<Connection> {
  const conn = new Connection(await dialPinned(destTarget()));
  await clientHandshake(conn, dataHello());
  return conn;
}

/** Writes raw bytes after the handshake and waits for the agent to close: its REJECT (or null) and the log line. */
async function sendAndExpectClose(bytes: Buffer[], opts: { endAfter?: boolean } = {}): Promise<{ reject: Reject | null; log: string }> {
  const conn = await openData();
  const logBefore = destLog.length;
  let reject: Reject | null = null;
  conn.onFrame((f) => {
    if (f.type === FrameType.reject) reject = JSON.parse(f.payload.toString('utf8')) as Reject;
  });
  const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
  for (const b of bytes) conn.write(b);
  if (opts.endAfter) conn.socket.end();
  await closed;
  return { reject, log: await logLine(logBefore) };
}

/** The first agent log line after index `from` (waits a little for it). */
async function logLine(from: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = destLog.slice(from).split('\n').find((l) => l.includes('refused a connection'));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  return '';
}

function head(rel: Buffer, size: number, inline: Buffer | null, batch = batchSeq, idx = 0): Buffer {
  const buf = Buffer.alloc(fileHeadLength(rel, inline ? inline.length : 0) + (inline ? FILE_END_OK_LENGTH : 0));
  const dataOff = writeFileHead(buf, 0, { batch, idx, flags: inline ? FLAG_INLINE : 0, mode: 0o644, uid: 0, gid: 0, atimeNs: 1n, mtimeNs: 1_700_000_000_000_000_000n, size }, rel, inline ? inline.length : 0);
  if (inline) {
    inline.copy(buf, dataOff);
    writeFileEndOk(buf, dataOff + inline.length, batch, idx, createHash('sha256').update(inline).digest());
  }
  return buf;
}

/** A rangeHead record: bytes [offset, offset + length) of a file of fileSize, into staging file `stage`. */
function rangeHead(rel: Buffer, fileSize: number, offset: number, length: number, stage = 'wiretest-1', batch = batchSeq, idx = 0): Buffer {
  const buf = Buffer.alloc(rangeHeadLength(rel, stage));
  writeRangeHead(buf, 0, { batch, idx, fileSize, offset, length, stage, rel });
  return buf;
}

function dataFrame(data: Buffer, offset: number, batch = batchSeq, idx = 0): Buffer {
  const buf = Buffer.alloc(5 + 16 + data.length);
  const off = writeFileDataHeader(buf, 0, batch, idx, offset, data.length);
  data.copy(buf, off);
  return buf;
}

function endOk(hash: Buffer, batch = batchSeq, idx = 0): Buffer {
  const buf = Buffer.alloc(FILE_END_OK_LENGTH);
  writeFileEndOk(buf, 0, batch, idx, hash);
  return buf;
}

/** Sends one batch of records (built for its batch number) on a fresh data connection and returns its ack. */
async function sendBatch(records: (batch: number) => Buffer[]): Promise<BatchAck> {
  const dc = await openDataConn({ agentId: 'dest', ...destTarget() }, { taskId: TASK, token: taskToken, agentId: 'agent-wire-test', agentVersion: 'test' });
  const batch = batchSeq++;
  for (const r of records(batch)) dc.conn.write(r);
  dc.conn.write(encodeBatchEnd(batch));
  const ack = await dc.waitAck(batch);
  dc.conn.close();
  return ack;
}

/** Everything under a directory, as relative paths (empty directories included). */
function listAll(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

function expectUntouched(): void {
  expect(listAll(dst)).toEqual([]);
  expect(fs.readdirSync(tmp).sort()).toEqual(['coordinator', 'destination', 'dst', 'src']);
}

// ------------------------------------------------------------------ the data port

describe('the destination data port refuses bad frames and writes nothing', () => {
  it('a frame cut short by the end of the stream: the half-sent file is discarded, the log says why', async () => {
    const content = Buffer.alloc(100_000, 7);
    const frame = dataFrame(content, 0);
    const r = await sendAndExpectClose([head(Buffer.from('cut-short'), content.length, null), frame.subarray(0, 5000)], { endAfter: true });
    expect(r.log).toContain('truncated-frame: The connection ended in the middle of a frame');
    expectUntouched();
  });

  it('a record shorter than its layout (a truncated fileHead inside a whole frame)', async () => {
    const r = await sendAndExpectClose([encodeFrame(FrameType.fileHead, Buffer.alloc(10))]);
    expect(r.reject?.code).toBe('bad-frame');
    expect(r.reject?.message).toBe('A fileHead record is truncated (10 bytes, needs 47).');
    expect(r.log).toContain('bad-frame: A fileHead record is truncated');
    expectUntouched();
  });

  it('a dense file whose data stops short of its announced size', async () => {
    const part = Buffer.alloc(1000, 1);
    const r = await sendAndExpectClose([head(Buffer.from('short'), 5000, null), dataFrame(part, 0), endOk(createHash('sha256').update(part).digest())]);
    expect(r.reject).toEqual({ code: 'bad-frame', message: 'File #0 ended after 1000 of its 5000 bytes.' });
    expectUntouched();
  });

  it('an oversized frame is refused from its 4 length bytes, before any payload', async () => {
    const r = await sendAndExpectClose([frameHeader(FrameType.fileData, MAX_FRAME_LENGTH)]);
    expect(r.reject).toEqual({ code: 'frame-too-large', message: `A frame of ${MAX_FRAME_LENGTH + 1} bytes arrived; the limit is ${MAX_FRAME_LENGTH}.` });
    expect(r.log).toContain('frame-too-large');
    expectUntouched();
  });

  it('an oversized HELLO is refused before the handshake', async () => {
    const socket = await dialPinned(destTarget());
    const conn = new Connection(socket);
    const got = new Promise<Reject | null>((resolve) => {
      conn.onFrame((f) => resolve(f.type === FrameType.reject ? (JSON.parse(f.payload.toString('utf8')) as Reject) : null));
      conn.onClose(() => resolve(null));
    });
    conn.write(frameHeader(FrameType.hello, 0xffff_fff0));
    expect((await got)?.code).toBe('frame-too-large');
    conn.close();
  });

  it('a file size beyond any real file is refused, not hashed as zeros for hours', async () => {
    const buf = head(Buffer.from('huge'), 0, null);
    buf.writeBigUInt64BE(2n ** 62n, 5 + 37);
    const r = await sendAndExpectClose([buf]);
    expect(r.reject?.code).toBe('bad-frame');
    expect(r.reject?.message).toContain('beyond any real file');
    expectUntouched();
  });

  it('more files started than a source ever has open is refused', async () => {
    const frames = Array.from({ length: 9 }, (_, i) => head(Buffer.from(`open${i}`), 10, null, batchSeq, i));
    const r = await sendAndExpectClose(frames);
    expect(r.reject?.code).toBe('bad-frame');
    expect(r.reject?.message).toContain('More than 8 files were started');
    expectUntouched();
  });

  const unsafe: [string, Buffer, string][] = [
    ['../ escaping the root', Buffer.from('../escaped'), "has a '..' component"],
    ['../ inside a path', Buffer.from('a/../../escaped'), "has a '..' component"],
    ['an absolute path', Buffer.from(path.join(tmp || os.tmpdir(), 'escaped-abs')), 'is absolute'],
    ['the root itself', Buffer.alloc(0), 'replace the destination root'],
    ['a NUL byte', Buffer.from('a\0b'), 'contains a NUL byte'],
  ];
  for (const [what, rel, message] of unsafe) {
    it(`a file record with ${what}`, async () => {
      const r = await sendAndExpectClose([head(rel, 5, Buffer.from('owned'))]);
      expect(r.reject?.code).toBe('unsafe-path');
      expect(r.reject?.message).toContain(message);
      expect(r.log).toContain('unsafe-path');
      expectUntouched();
      expect(fs.existsSync(path.join(tmp, 'escaped'))).toBe(false);
      expect(fs.existsSync(path.join(os.tmpdir(), 'escaped-abs'))).toBe(false);
    });
  }

  it('a symlink record with ../ in its path', async () => {
    const rel = Buffer.from('../escaped-link');
    const target = Buffer.from('/etc/passwd');
    const buf = Buffer.alloc(symlinkLength(rel, target));
    writeSymlink(buf, 0, { batch: batchSeq, idx: 0, uid: 0, gid: 0, atimeNs: 1n, mtimeNs: 1n, rel, target });
    const r = await sendAndExpectClose([buf]);
    expect(r.reject?.code).toBe('unsafe-path');
    expectUntouched();
    expect(fs.existsSync(path.join(tmp, 'escaped-link'))).toBe(false);
  });

  it('a range record with ../ in its path, past its file, or with an unsafe staging key', async () => {
    const escape = await sendAndExpectClose([rangeHead(Buffer.from('../escaped-range'), 100, 0, 10)]);
    expect(escape.reject?.code).toBe('unsafe-path');
    const past = await sendAndExpectClose([rangeHead(Buffer.from('big'), 100, 96, 10)]);
    expect(past.reject).toEqual({ code: 'bad-frame', message: 'A range [96, +10) does not fit a file of 100 bytes.' });
    const key = await sendAndExpectClose([rangeHead(Buffer.from('big'), 100, 0, 10, '../x')]);
    expect(key.reject).toEqual({ code: 'bad-frame', message: 'A rangeHead record names an invalid staging key.' });
    expectUntouched();
    expect(fs.existsSync(path.join(tmp, 'escaped-range'))).toBe(false);
  });

  it('range data outside its range, or a range that skips bytes', async () => {
    const data = Buffer.alloc(8, 3);
    const outside = await sendAndExpectClose([rangeHead(Buffer.from('big'), 100, 0, 10), dataFrame(data, 0), dataFrame(data, 8)]);
    expect(outside.reject).toEqual({ code: 'bad-frame', message: 'File data past the announced size.' });
    const gap = await sendAndExpectClose([rangeHead(Buffer.from('big'), 100, 10, 20), dataFrame(data, 12)]);
    expect(gap.reject).toEqual({ code: 'bad-frame', message: 'Range data skipped bytes.' });
    // Only the staging file the ranges opened (kept for the file's other ranges; the directory's
    // final sweep removes leftovers): nothing is visible under the name "big".
    expect(listAll(dst)).toEqual(['.ferry-tmp.range.wiretest-1']);
    fs.rmSync(path.join(dst, '.ferry-tmp.range.wiretest-1'));
  });

  it('a frame type that has no place on a data connection', async () => {
    const r = await sendAndExpectClose([encodeFrame(FrameType.json, Buffer.from('{"t":"stop","reason":"x"}'))]);
    expect(r.reject).toEqual({ code: 'bad-frame', message: `Unexpected frame type ${FrameType.json} on a data connection.` });
    expectUntouched();
  });
});

describe('handshakes: task token, protocol version, pinned certificate', () => {
  const refusedWith = async (target: ReturnType<typeof destTarget>, hello: Hello): Promise<WireError> => {
    const conn = new Connection(await dialPinned(target));
    const err = await clientHandshake(conn, hello).then(
      () => null,
      (e: unknown) => e,
    );
    conn.close();
    expect(err).toBeInstanceOf(WireError);
    return err as WireError;
  };

  it('a wrong task token is refused at the data port', async () => {
    const e = await refusedWith(destTarget(), dataHello({ token: `${taskToken.slice(0, -1)}${taskToken.endsWith('0') ? '1' : '0'}` }));
    expect(e.code).toBe('bad-token');
    expect(e.message).toBe(`Wrong task token for task "${TASK}".`);
    expectUntouched();
  });

  it('a wrong task token is refused at the coordinator', async () => {
    const target = { host: '127.0.0.1', port: coordAgent.ready.dataPort, fingerprint: coordAgent.ready.fingerprint };
    const e = await refusedWith(target, { ...dataHello({ token: 'not-the-token' }), channel: 'worker', role: 'source' });
    expect(e.code).toBe('bad-token');
    const status = await coordControl.call('task.status', { taskId: TASK });
    expect(status.workers.filter((w) => w.role === 'source')).toEqual([]);
  });

  it('an unknown task and another protocol version are refused with what to do', async () => {
    expect((await refusedWith(destTarget(), dataHello({ taskId: 'no-such-task' }))).code).toBe('unknown-task');
    const e = await refusedWith(destTarget(), dataHello({ protocolVersion: WIRE_PROTOCOL_VERSION + 1 }));
    expect(e.code).toBe('protocol-mismatch');
    expect(e.message).toMatch(/upgrade the agent/);
  });

  it('a client pinning another fingerprint refuses the real agent before sending a byte', async () => {
    const err = await dialPinned(destTarget(coordAgent.ready.fingerprint)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe('wrong-certificate');
    expect((err as WireError).message).toMatch(/refusing to talk to it/);
  });

  it('an impostor with another certificate never receives the HELLO (and so never the token)', async () => {
    const impostorId = loadOrCreateIdentity(path.join(tmp, 'impostor'));
    let received = 0;
    const server = createTlsServer(impostorId, (s: tls.TLSSocket) => s.on('data', (d: Buffer) => (received += d.length)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const err = await openDataConn({ agentId: 'x', host: '127.0.0.1', port, fingerprint: destAgent.ready.fingerprint }, { taskId: TASK, token: taskToken, agentId: 'a', agentVersion: 't' }).then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    server.close();
    fs.rmSync(path.join(tmp, 'impostor'), { recursive: true, force: true });
    expect((err as WireError).code).toBe('wrong-certificate');
    expect(received).toBe(0);
  });
});

// ------------------------------------------------------------------ the control port

describe('the control handshake', () => {
  /** Sends raw lines to the coordinator's control port; resolves with every line it answers before closing. */
  async function controlLines(lines: unknown[]): Promise<Record<string, unknown>[]> {
    const socket = net.connect({ host: '127.0.0.1', port: coordAgent.ready.controlPort });
    socket.setEncoding('utf8');
    let got = '';
    socket.on('data', (d: string) => (got += d));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await new Promise<void>((r) => socket.once('close', () => r()));
    return got
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('a wrong agent token is refused, and requests behind it (even a right token) are not read', async () => {
    const cancel = { id: 1, method: 'task.cancel', params: { taskId: TASK } };
    const answers = await controlLines([
      { type: 'hello', protocolVersion: CONTROL_PROTOCOL_VERSION, token: 'wrong-token-wrong-token' },
      cancel,
      { type: 'hello', protocolVersion: CONTROL_PROTOCOL_VERSION, token: coordAgent.token },
      cancel,
    ]);
    expect(answers).toEqual([{ type: 'error', error: { code: 'bad-token', message: 'Wrong agent token (see agent.json in the agent home).' } }]);
    expect((await coordControl.call('task.status', { taskId: TASK })).state).toBe('running');
    const err = await ControlClient.connect(coordAgent.ready.controlPort, 'x'.repeat(48)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentCallError);
    expect((err as AgentCallError).code).toBe('bad-token');
  });

  it('another protocol version is refused with what to do; nothing runs', async () => {
    const answers = await controlLines([
      { type: 'hello', protocolVersion: CONTROL_PROTOCOL_VERSION + 1, token: coordAgent.token },
      { id: 1, method: 'task.cancel', params: { taskId: TASK } },
    ]);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: 'error', error: { code: 'protocol-mismatch' } });
    expect(String((answers[0]?.error as { message: string }).message)).toMatch(/upgrade the agent \(or the app\)/);
    expect((await coordControl.call('task.status', { taskId: TASK })).state).toBe('running');
  });

  it('a request before any hello is refused', async () => {
    const answers = await controlLines([{ id: 1, method: 'task.cancel', params: { taskId: TASK } }]);
    expect(answers[0]).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
    expect((await coordControl.call('task.status', { taskId: TASK })).state).toBe('running');
  });
});

// ------------------------------------------------------------------ still serving

describe('after all that', () => {
  it('a correct range lands in its staging file only, verified and read back, never under the final name', async () => {
    const data = Buffer.alloc(4096, 9);
    const hash = createHash('sha256').update(data).digest();
    const ack = await sendBatch((batch) => [rangeHead(Buffer.from('ranged/file'), 3 * 4096, 4096, 4096, 'wiretest-7', batch, 0), dataFrame(data, 4096, batch, 0), endOk(hash, batch, 0)]);
    const [, status, dstHash, readBack, , , stageId] = ack.results[0] ?? [];
    expect(status).toBe('ok');
    expect(dstHash).toBe(hash.toString('hex'));
    expect(readBack).toBe(hash.toString('hex'));
    const stage = path.join(dst, 'ranged', '.ferry-tmp.range.wiretest-7');
    const st = fs.statSync(stage, { bigint: true });
    expect(stageId).toBe(`${st.ino}:${st.birthtimeNs}`);
    expect(fs.readFileSync(stage).subarray(4096, 8192).equals(data)).toBe(true);
    expect(fs.readdirSync(path.join(dst, 'ranged'))).toEqual(['.ferry-tmp.range.wiretest-7']);
    fs.rmSync(path.join(dst, 'ranged'), { recursive: true });
  });

  it('a file or a range that reads back different from the source SHA-256 fails (to be retried) and is never put in place', async () => {
    const data = Buffer.alloc(4096, 5);
    const wrong = createHash('sha256').update('not these bytes').digest();
    const ack = await sendBatch((batch) => [
      head(Buffer.from('mismatch/whole'), data.length, null, batch, 0),
      dataFrame(data, 0, batch, 0),
      endOk(wrong, batch, 0),
      rangeHead(Buffer.from('mismatch/ranged'), 2 * 4096, 0, 4096, 'wiretest-8', batch, 1),
      dataFrame(data, 0, batch, 1),
      endOk(wrong, batch, 1),
    ]);
    const byIdx = new Map(ack.results.map((r) => [r[0], r]));
    expect(byIdx.get(0)?.[1]).toBe('failed');
    expect(byIdx.get(0)?.[4]).toBe('hash-mismatch');
    expect(byIdx.get(0)?.[5]).toMatch(/SHA-256/);
    expect(byIdx.get(1)?.[1]).toBe('failed');
    expect(byIdx.get(1)?.[4]).toBe('hash-mismatch');
    // Neither name appears; only the range's staging file (kept for the range's next attempt) is there.
    expect(fs.readdirSync(path.join(dst, 'mismatch'))).toEqual(['.ferry-tmp.range.wiretest-8']);
    fs.rmSync(path.join(dst, 'mismatch'), { recursive: true });
  });

  it('the destination agent still takes a correct batch', async () => {
    const content = Buffer.from('a correct file\n');
    const ack = await sendBatch((batch) => [head(Buffer.from('sub/good.txt'), content.length, content, batch, 0)]);
    expect(ack.results).toHaveLength(1);
    expect(ack.results[0]?.[1]).toBe('ok');
    expect(fs.readFileSync(path.join(dst, 'sub/good.txt'), 'utf8')).toBe('a correct file\n');
    expect(destAgent.child.exitCode).toBeNull();
    expect(coordAgent.child.exitCode).toBeNull();
  });
});
