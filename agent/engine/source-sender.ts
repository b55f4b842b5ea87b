/**
 * Source side of the data plane: reads the files of one copy job and streams them to a destination
 * as one batch over an authenticated data connection, hashing while reading, then waits for the
 * destination's per-file results. Small files travel inline in their fileHead frame; many of them share
 * one socket write (frames are packed into 1 MiB output blocks, no per-file buffer). Large files go as
 * 1 MiB fileData frames, only their data segments when sparse (holes are hashed as zeros); a range of a
 * large file goes the same way under a rangeHead, hashed on its own.
 *
 * A file whose size, mtime or ctime changes between the fstat before and after reading is sent again
 * (up to MAX_ATTEMPTS), then reported 'changed'. Reads are synchronous (the fastest way for small
 * files; a small one is opened, checked, read and hashed in one addon call where it can, sendWhole);
 * the event loop gets control back whenever the socket needs draining.
 * Never follows a symlink (O_NOFOLLOW), never waits on a FIFO (O_NONBLOCK), never writes to the source.
 */
import { createHash, hash as sha256Once } from 'node:crypto';
import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import type { EntryMeta } from '../fs/api.ts';
import type { Connection } from '../net/connection.ts';
import { parseJsonPayload } from '../net/connection.ts';
import { WireError } from '../net/wire-error.ts';
import { classify } from '../fs/errors.ts';
import { metaFromStatArray, metaFromStats } from '../fs/meta.ts';
import { READ_WHOLE_STATS, ReadWholeStatus, canReadWhole, readWhole } from '../fs/native.ts';
import { isSparse } from '../fs/meta.ts';
import { joinRel } from '../fs/relpath.ts';
import { dataSegments } from '../fs/sparse.ts';
import { sha256Fd } from '../fs/hash.ts';
import { FrameType, MAX_CHUNK } from '../protocol/wire.ts';
import type { CopyItem, ItemResult, WireMeta } from '../protocol/wire.ts';
import type { TokenBucket } from './bandwidth.ts';
import { describeError } from './errors.ts';
import type { BatchAck, FileHeadFields } from './records.ts';
import {
  FILE_END_OK_LENGTH,
  FLAG_INLINE,
  FLAG_SPARSE,
  encodeBatchEnd,
  encodeFileEndAbort,
  fileHeadLength,
  rangeHeadLength,
  symlinkLength,
  writeFileDataHeader,
  writeFileEndOk,
  writeFileHead,
  writeRangeHead,
  writeSymlink,
} from './records.ts';
import { metaSig, metaToWire, unb64 } from './wire-meta.ts';

const MAX_ATTEMPTS = 3;
/** Files up to this size are read in one go and sent inline. */
const INLINE_MAX = 256 * 1024;
const BLOCK = 1024 * 1024 + 64 * 1024;
const FILE_DATA_FRAME_OVERHEAD = 5 + 16;
// O_NONBLOCK: a name that became a FIFO since it was listed must not wait for a writer (no effect on files).
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const ZEROS = Buffer.alloc(MAX_CHUNK);
const BIG = { bigint: true } as const;
/** readWhole's outputs, reused: read right after each call. */
const WHOLE_STATS = new BigInt64Array(READ_WHOLE_STATS);
const WHOLE_DIGEST = Buffer.alloc(32);

/**
 * Written blocks the socket is done with, for the next flush (of any batch): a fresh 1 MiB block per
 * flush is external memory that keeps the garbage collector busy at hundreds of MB/s.
 */
const FREE_BLOCKS: Buffer[] = [];
const MAX_FREE_BLOCKS = 8;

function takeBlock(): Buffer {
  return FREE_BLOCKS.pop() ?? Buffer.allocUnsafe(BLOCK);
}

/** Packs frames into large blocks so that many small files cost one socket write. */
class OutBlocks {
  private block = takeBlock();
  private used = 0;
  constructor(private readonly conn: Connection) {}

  /** Room for n bytes at the returned offset in `buf` (flushing first when needed). */
  reserve(n: number): { buf: Buffer; off: number } {
    if (this.used + n > this.block.length) {
      this.flush();
      if (n > this.block.length) this.block = Buffer.allocUnsafe(n);
    }
    const off = this.used;
    this.used += n;
    return { buf: this.block, off };
  }

  /** Gives back the unused tail of the last reservation (a file turned out shorter). */
  shrink(to: number): void {
    this.used = to;
  }

  push(frame: Buffer): void {
    this.flush();
    this.conn.write(frame);
  }

  flush(): void {
    if (this.used === 0) return;
    const block = this.block;
    // The socket keeps a reference to what it has not sent yet: a block is reused only once it is
    // written, never after an error (the stream may still hold it).
    this.conn.write(block.subarray(0, this.used), (err) => {
      if (!err && block.length === BLOCK && FREE_BLOCKS.length < MAX_FREE_BLOCKS) FREE_BLOCKS.push(block);
    });
    this.block = takeBlock();
    this.used = 0;
  }

  get pending(): number {
    return this.used;
  }
}

interface SourceOutcome {
  result: ItemResult;
  /** Sent to the destination: its ack decides. */
  sent: boolean;
}

export interface SendOptions {
  root: Buffer;
  batch: number;
  bucket: TokenBucket;
  /** Called with bytes read, for progress. */
  onBytes?: (n: number) => void;
  /**
   * Throws (FsError 'mount-lost') when the root is no longer the mount it was. Called before a file
   * is blamed for an error: on a vanished mount every file looks deleted.
   */
  checkRoot?: () => void;
}

function statsChanged(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.size !== b.size || a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs || a.ino !== b.ino;
}

/** Sends one batch over conn and resolves with the final per-item results (source + destination views). */
export class BatchSender {
  private readonly out: OutBlocks;
  private readonly outcomes = new Map<number, SourceOutcome>();
  private readonly conn: Connection;
  private readonly opts: SendOptions;
  private readonly items: CopyItem[];

  constructor(conn: Connection, items: CopyItem[], opts: SendOptions) {
    this.conn = conn;
    this.items = items;
    this.opts = opts;
    this.out = new OutBlocks(conn);
  }

  async run(waitAck: (batch: number) => Promise<BatchAck>): Promise<ItemResult[]> {
    for (let idx = 0; idx < this.items.length; idx++) {
      const item = this.items[idx] as CopyItem;
      const rel = unb64(item.rel);
      let abs: Buffer;
      try {
        abs = joinRel(this.opts.root, rel);
      } catch (err) {
        this.fail(item, err);
        continue;
      }
      if (item.kind === 'symlink') this.sendSymlink(idx, item, rel, abs);
      else await this.sendFile(idx, item, rel, abs);
      if (this.out.pending > BLOCK / 2 || this.conn.socket.writableNeedDrain) {
        this.out.flush();
        await this.conn.drain();
      }
    }
    this.out.flush();
    this.conn.write(encodeBatchEnd(this.opts.batch));
    const ack = await waitAck(this.opts.batch);
    return this.merge(ack);
  }

  private merge(ack: BatchAck): ItemResult[] {
    const byIdx = new Map<number, BatchAck['results'][number]>();
    for (const r of ack.results) byIdx.set(r[0], r);
    const out: ItemResult[] = [];
    for (let idx = 0; idx < this.items.length; idx++) {
      const item = this.items[idx] as CopyItem;
      const o = this.outcomes.get(idx);
      if (!o) {
        out.push({ id: item.id, status: 'failed', code: 'internal', reason: 'The source lost track of this file.' });
        continue;
      }
      if (!o.sent) {
        out.push(o.result);
        continue;
      }
      const d = byIdx.get(idx);
      if (!d) {
        out.push({ id: item.id, status: 'failed', code: 'no-ack', reason: 'The destination did not report this file.' });
        continue;
      }
      const [, status, dstHash, readBackHash, code, reason, stageId] = d;
      const r: ItemResult = { ...o.result };
      if (dstHash) r.dstHash = dstHash;
      if (readBackHash) r.readBackHash = readBackHash;
      if (stageId) r.stageId = stageId;
      if (status === 'failed') {
        r.status = 'failed';
        r.code = code ?? 'io';
        r.reason = reason ?? 'The destination could not write it.';
      }
      out.push(r);
    }
    return out;
  }

  private fail(item: CopyItem, err: unknown, idx = -1): void {
    const e = describeError(err);
    if (e.scope === 'task') throw err;
    this.opts.checkRoot?.();
    const result: ItemResult = { id: item.id, status: 'failed', code: e.code, reason: e.message };
    this.outcomes.set(idx >= 0 ? idx : this.items.indexOf(item), { result, sent: false });
  }

  private sendSymlink(idx: number, item: CopyItem, rel: Buffer, abs: Buffer): void {
    let st: fs.BigIntStats;
    let target: Buffer;
    try {
      st = fs.lstatSync(abs, BIG);
      if (!st.isSymbolicLink()) {
        this.outcomes.set(idx, { result: { id: item.id, status: 'changed', reason: 'It is no longer a symlink.' }, sent: false });
        return;
      }
      target = fs.readlinkSync(abs, { encoding: 'buffer' });
    } catch (err) {
      this.fail(item, classify(err, abs), idx);
      return;
    }
    const rec = { batch: this.opts.batch, idx, uid: Number(st.uid), gid: Number(st.gid), atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, rel, target };
    const { buf, off } = this.out.reserve(symlinkLength(rel, target));
    writeSymlink(buf, off, rec);
    const hash = createHash('sha256').update(target).digest('hex');
    this.outcomes.set(idx, { result: { id: item.id, status: 'ok', srcHash: hash, bytes: 0, ...metaIfChanged(item, metaFromStats(st)) }, sent: true });
  }

  private async sendFile(idx: number, item: CopyItem, rel: Buffer, abs: Buffer): Promise<void> {
    if (item.size <= INLINE_MAX && !item.range && item.skipIfHash === undefined && canReadWhole() && (await this.sendWhole(idx, item, rel, abs))) return;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(abs, OPEN_FLAGS);
      } catch (err) {
        this.openFailed(idx, item, abs, err);
        return;
      }
      try {
        const done = await this.sendOpenFile(idx, item, rel, abs, fd);
        if (done) return;
      } catch (err) {
        if (err instanceof WireError) throw err;
        const e = describeError(classify(err, abs));
        if (e.scope === 'task') throw err;
        this.opts.checkRoot?.();
        if (this.outcomes.get(idx)?.sent) this.out.push(encodeFileEndAbort(this.opts.batch, idx, e.message));
        this.outcomes.set(idx, { result: { id: item.id, status: 'failed', code: e.code, reason: e.message }, sent: false });
        return;
      } finally {
        fs.closeSync(fd);
      }
    }
    this.keptChanging(idx, item);
  }

  private keptChanging(idx: number, item: CopyItem): void {
    this.outcomes.set(idx, {
      result: { id: item.id, status: 'changed', code: 'changed', reason: `It kept changing while it was read (${MAX_ATTEMPTS} attempts).` },
      sent: false,
    });
  }

  /** The file could not be opened (or read whole): gone or a symlink now is a change, the rest a failure. */
  private openFailed(idx: number, item: CopyItem, abs: Buffer, err: unknown): void {
    const e = classify(err, abs);
    if (e.errno === 'ELOOP' || e.errno === 'ENOENT') {
      this.opts.checkRoot?.();
      this.outcomes.set(idx, { result: { id: item.id, status: 'changed', code: e.errno, reason: e.errno === 'ENOENT' ? 'It was deleted during the migration.' : 'It became a symlink during the migration.' }, sent: false });
    } else this.fail(item, e, idx);
  }

  /**
   * A file listed as small: read, checked and hashed in one addon call (native.ts readWhole) straight
   * into its inline record, as sendOpenFile would do in six calls. False when it is not a small dense
   * regular file now (grown past the listed size, sparse, another type): then it goes the long way.
   */
  private async sendWhole(idx: number, item: CopyItem, rel: Buffer, abs: Buffer): Promise<boolean> {
    await this.opts.bucket.take(item.size);
    const headBytes = fileHeadLength(rel, 0);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { buf, off } = this.out.reserve(headBytes + item.size + FILE_END_OK_LENGTH);
      const dataOff = off + headBytes;
      let n: number;
      try {
        n = readWhole(abs, buf, dataOff, item.size, WHOLE_STATS, WHOLE_DIGEST);
      } catch (err) {
        this.out.shrink(off);
        this.openFailed(idx, item, abs, err);
        return true;
      }
      if (n === ReadWholeStatus.changed) {
        this.out.shrink(off);
        continue;
      }
      if (n < 0) {
        this.out.shrink(off);
        this.opts.bucket.giveBack(item.size); // the long way takes its own
        return false;
      }
      const meta = metaFromStatArray(WHOLE_STATS);
      writeFileHead(buf, off, this.fileHead(idx, meta, n, FLAG_INLINE), rel, n);
      this.out.shrink(dataOff + n + FILE_END_OK_LENGTH);
      this.endInline(idx, item, meta, buf, dataOff, n, WHOLE_DIGEST);
      return true;
    }
    this.keptChanging(idx, item);
    return true;
  }

  /** One attempt; false when the file changed while read (the caller retries). */
  private async sendOpenFile(idx: number, item: CopyItem, rel: Buffer, abs: Buffer, fd: number): Promise<boolean> {
    const before = fs.fstatSync(fd, BIG);
    if (!before.isFile()) {
      this.outcomes.set(idx, { result: { id: item.id, status: 'changed', code: 'type-changed', reason: 'It is no longer a regular file.' }, sent: false });
      return true;
    }
    if (item.range) return this.sendRange(idx, item, item.range, rel, fd, before);
    const size = Number(before.size);
    if (item.skipIfHash !== undefined) {
      const h = sha256Fd(fd).toString('hex');
      const after = fs.fstatSync(fd, BIG);
      if (!statsChanged(before, after) && h === item.skipIfHash) {
        this.outcomes.set(idx, { result: { id: item.id, status: 'unchanged', srcHash: h, dstHash: h, bytes: 0 }, sent: false });
        return true;
      }
    }
    const meta = metaFromStats(before);
    const sparse = isSparse(meta);
    const head = this.fileHead(idx, meta, size, sparse ? FLAG_SPARSE : 0);
    if (size <= INLINE_MAX && !sparse) {
      await this.opts.bucket.take(size);
      const { buf, off } = this.out.reserve(fileHeadLength(rel, size) + FILE_END_OK_LENGTH);
      head.flags |= FLAG_INLINE;
      const dataOff = writeFileHead(buf, off, head, rel, size);
      let n: number;
      try {
        n = readFull(fd, buf, dataOff, size, 0);
      } catch (err) {
        this.out.shrink(off);
        throw err;
      }
      const after = fs.fstatSync(fd, BIG);
      if (n !== size || statsChanged(before, after)) {
        this.out.shrink(off);
        return false;
      }
      this.endInline(idx, item, meta, buf, dataOff, size, sha256Once('sha256', buf.subarray(dataOff, dataOff + size), 'buffer'));
      return true;
    }
    return this.streamFile(idx, item, rel, fd, before, meta, head, sparse);
  }

  private fileHead(idx: number, meta: EntryMeta, size: number, flags: number): FileHeadFields {
    return { batch: this.opts.batch, idx, flags, mode: meta.mode, uid: meta.uid, gid: meta.gid, atimeNs: meta.atimeNs, mtimeNs: meta.mtimeNs, size };
  }

  /** Ends an inline record whose n bytes are at buf[dataOff..] (room reserved): its SHA-256, progress, the outcome. */
  private endInline(idx: number, item: CopyItem, meta: EntryMeta, buf: Buffer, dataOff: number, n: number, hash: Buffer): void {
    writeFileEndOk(buf, dataOff + n, this.opts.batch, idx, hash);
    this.opts.onBytes?.(n);
    this.outcomes.set(idx, { result: { id: item.id, status: 'ok', srcHash: hash.toString('hex'), bytes: n, ...metaIfChanged(item, meta) }, sent: true });
  }

  /** Large or sparse files: head, 1 MiB data frames (only data segments when sparse), end. */
  private async streamFile(
    idx: number,
    item: CopyItem,
    rel: Buffer,
    fd: number,
    before: fs.BigIntStats,
    meta: ReturnType<typeof metaFromStats>,
    head: FileHeadFields,
    sparse: boolean,
  ): Promise<boolean> {
    const size = meta.size;
    const { buf, off } = this.out.reserve(fileHeadLength(rel, 0));
    writeFileHead(buf, off, head, rel, 0);
    this.outcomes.set(idx, { result: { id: item.id, status: 'failed', code: 'incomplete' }, sent: true });
    const hash = createHash('sha256');
    const segments = sparse ? dataSegments(fd, size) : [[0, size] as [number, number]];
    let hashed = 0;
    let shrunk = false;
    for (const [start, end] of segments) {
      hashed = hashZeros(hash, hashed, start);
      shrunk = !(await this.streamBytes(idx, fd, start, end, hash));
      if (shrunk) break;
      hashed = end;
    }
    const after = fs.fstatSync(fd, BIG);
    if (shrunk || statsChanged(before, after)) {
      this.out.push(encodeFileEndAbort(this.opts.batch, idx, 'changed while read'));
      return false;
    }
    hashZeros(hash, hashed, size);
    const digest = hash.digest();
    const e = this.out.reserve(FILE_END_OK_LENGTH);
    writeFileEndOk(e.buf, e.off, this.opts.batch, idx, digest);
    this.outcomes.set(idx, { result: { id: item.id, status: 'ok', srcHash: digest.toString('hex'), bytes: size, ...metaIfChanged(item, meta) }, sent: true });
    return true;
  }

  /**
   * fileData frames for bytes [start, end) of fd, hashed as read; false when the file ended sooner
   * (it shrank while read: a change the caller retries).
   */
  private async streamBytes(idx: number, fd: number, start: number, end: number, hash: Hash): Promise<boolean> {
    for (let pos = start; pos < end; ) {
      const want = Math.min(MAX_CHUNK, end - pos);
      await this.opts.bucket.take(want);
      const r = this.out.reserve(FILE_DATA_FRAME_OVERHEAD + want);
      const dataOff = writeFileDataHeader(r.buf, r.off, this.opts.batch, idx, pos, want);
      let k: number;
      try {
        k = readFull(fd, r.buf, dataOff, want, pos);
      } catch (err) {
        this.out.shrink(r.off);
        throw err;
      }
      if (k < want) {
        this.out.shrink(r.off);
        return false;
      }
      hash.update(r.buf.subarray(dataOff, dataOff + want));
      pos += want;
      this.opts.onBytes?.(want);
      if (this.out.pending >= BLOCK / 2) {
        this.out.flush();
        if (this.conn.socket.writableNeedDrain) await this.conn.drain();
      }
    }
    return true;
  }

  /**
   * One range of a large file, sent only while the file is still as listed: ranges of different
   * versions must never be put together, so a file that changed is refused ('range-stale', with its
   * meta now) and the coordinator starts it over.
   */
  private async sendRange(idx: number, item: CopyItem, range: NonNullable<CopyItem['range']>, rel: Buffer, fd: number, before: fs.BigIntStats): Promise<boolean> {
    const now = metaToWire(metaFromStats(before));
    if (item.sig === undefined || metaSig(now) !== item.sig || range.offset + range.length > Number(before.size)) {
      this.outcomes.set(idx, { result: { id: item.id, status: 'failed', code: 'range-stale', reason: 'It changed after it was listed.', meta: now }, sent: false });
      return true;
    }
    const head = this.out.reserve(rangeHeadLength(rel, range.stage));
    writeRangeHead(head.buf, head.off, { batch: this.opts.batch, idx, fileSize: Number(before.size), offset: range.offset, length: range.length, stage: range.stage, rel });
    this.outcomes.set(idx, { result: { id: item.id, status: 'failed', code: 'incomplete' }, sent: true });
    const hash = createHash('sha256');
    const complete = await this.streamBytes(idx, fd, range.offset, range.offset + range.length, hash);
    if (!complete || statsChanged(before, fs.fstatSync(fd, BIG))) {
      this.out.push(encodeFileEndAbort(this.opts.batch, idx, 'changed while read'));
      return false;
    }
    const digest = hash.digest();
    const e = this.out.reserve(FILE_END_OK_LENGTH);
    writeFileEndOk(e.buf, e.off, this.opts.batch, idx, digest);
    this.outcomes.set(idx, { result: { id: item.id, status: 'ok', srcHash: digest.toString('hex'), bytes: range.length }, sent: true });
    return true;
  }
}

/**
 * The meta the file was copied with, for the result, only when it differs from the listing's (the
 * item's sig): the coordinator journals it then; an unchanged file costs no meta on the wire.
 */
function metaIfChanged(item: CopyItem, meta: ReturnType<typeof metaFromStats>): { meta?: WireMeta } {
  const wire = metaToWire(meta);
  return item.sig !== undefined && metaSig(wire) === item.sig ? {} : { meta: wire };
}

function readFull(fd: number, buf: Buffer, off: number, len: number, pos: number): number {
  let n = 0;
  while (n < len) {
    const k = fs.readSync(fd, buf, off + n, len - n, pos + n);
    if (k === 0) break;
    n += k;
  }
  return n;
}

/** Feeds zeros for the hole [from, to) into the hash; returns to. */
function hashZeros(hash: Hash, from: number, to: number): number {
  let left = to - from;
  while (left > 0) {
    const k = Math.min(left, ZEROS.length);
    hash.update(ZEROS.subarray(0, k));
    left -= k;
  }
  return Math.max(from, to);
}

/** Parses a batchAck frame payload. */
export function parseBatchAck(payload: Buffer): BatchAck {
  const v = parseJsonPayload(payload) as BatchAck;
  if (typeof v !== 'object' || v === null || typeof v.batch !== 'number' || !Array.isArray(v.results)) {
    throw new WireError('bad-frame', 'A malformed batchAck arrived.');
  }
  return v;
}

export { FrameType };
