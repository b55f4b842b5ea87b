/**
 * Source side: authenticated data connections to destination agents, pooled per destination. A
 * connection carries one batch at a time (the destination answers each batch with one ack), so a pool
 * of N connections gives N batches in flight. A connection that fails is dropped; the next acquire
 * dials a fresh one (pinned certificate, task token, protocol version).
 */
import { Connection, clientHandshake } from '../net/connection.ts';
import { dialPinned } from '../net/tls.ts';
import { WireError } from '../net/wire-error.ts';
import { FrameType, WIRE_PROTOCOL_VERSION } from '../protocol/wire.ts';
import type { DataTarget } from '../protocol/wire.ts';
import type { BatchAck } from './records.ts';
import { parseBatchAck } from './source-sender.ts';

export interface DataConn {
  conn: Connection;
  waitAck: (batch: number) => Promise<BatchAck>;
}

interface Credentials {
  taskId: string;
  token: string;
  agentId: string;
  agentVersion: string;
}

export async function openDataConn(target: DataTarget, creds: Credentials): Promise<DataConn> {
  const socket = await dialPinned(target);
  const conn = new Connection(socket);
  await clientHandshake(conn, {
    protocolVersion: WIRE_PROTOCOL_VERSION,
    channel: 'data',
    taskId: creds.taskId,
    token: creds.token,
    agentId: creds.agentId,
    agentVersion: creds.agentVersion,
  });
  const waiting = new Map<number, { resolve: (a: BatchAck) => void; reject: (e: Error) => void }>();
  conn.onFrame((f) => {
    if (f.type !== FrameType.batchAck) throw new WireError('bad-frame', `Unexpected frame type ${f.type} from a destination.`);
    const ack = parseBatchAck(f.payload);
    const w = waiting.get(ack.batch);
    if (!w) throw new WireError('bad-frame', `An ack for batch ${ack.batch}, which was not sent.`);
    waiting.delete(ack.batch);
    w.resolve(ack);
  });
  conn.onClose((err) => {
    const e = err ?? new Error('The destination closed the data connection.');
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  const waitAck = (batch: number) =>
    new Promise<BatchAck>((resolve, reject) => {
      if (conn.closed) reject(new Error('The data connection is closed.'));
      else waiting.set(batch, { resolve, reject });
    });
  return { conn, waitAck };
}

export class DataPool {
  private readonly idle = new Map<string, DataConn[]>();
  private readonly creds: Credentials;

  constructor(creds: Credentials) {
    this.creds = creds;
  }

  async acquire(target: DataTarget): Promise<DataConn> {
    const key = `${target.host}:${target.port}:${target.fingerprint}`;
    const list = this.idle.get(key) ?? [];
    while (list.length > 0) {
      const c = list.pop() as DataConn;
      if (!c.conn.closed) return c;
    }
    return openDataConn(target, this.creds);
  }

  release(target: DataTarget, c: DataConn): void {
    if (c.conn.closed) return;
    const key = `${target.host}:${target.port}:${target.fingerprint}`;
    const list = this.idle.get(key) ?? [];
    list.push(c);
    this.idle.set(key, list);
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const c of list) c.conn.close(null);
    this.idle.clear();
  }
}
