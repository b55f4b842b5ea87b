/**
 * Binary data-plane records (payloads of the fileHead, fileData, fileEnd, symlink and batchEnd frames
 * of protocol/wire.ts), encoded straight into an output block and decoded with bounds checks: a
 * record that is too short or whose lengths do not add up is a WireError('bad-frame'), never an
 * out-of-range read. Paths stay raw bytes. Layouts (big-endian):
 *   fileHead: u32 batch, u32 idx, u8 flags(1 sparse, 2 inline), u32 mode, u32 uid, u32 gid,
 *             i64 atimeNs, i64 mtimeNs, u64 size, u16 relLen, rel, [inline data: size bytes]
 *   fileData: u32 batch, u32 idx, u64 offset, data
 *   fileEnd:  u32 batch, u32 idx, u8 status(0 ok + 32-byte SHA-256 | 1 given up + utf8 reason)
 *   symlink:  u32 batch, u32 idx, u32 uid, u32 gid, i64 atimeNs, i64 mtimeNs, u16 relLen, rel, target
 *   batchEnd: u32 batch
 *   rangeHead: u32 batch, u32 idx, u64 fileSize, u64 offset, u64 length, u8 stageLen, stage (ASCII),
 *             u16 relLen, rel; then fileData frames inside [offset, offset + length) and a fileEnd
 *             whose SHA-256 is the range's
 */
import { FRAME_HEADER_BYTES, FrameType } from '../protocol/wire.ts';
import { WireError } from '../net/wire-error.ts';

export const FLAG_SPARSE = 1;
export const FLAG_INLINE = 2;
export const FILE_HEAD_FIXED = 4 + 4 + 1 + 4 * 3 + 8 * 3 + 2;
export const SYMLINK_FIXED = 4 + 4 + 4 * 2 + 8 * 2 + 2;

export interface FileHeadFields {
  batch: number;
  idx: number;
  flags: number;
  mode: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  size: number;
}

/** Writes a frame header + fileHead record at buf[off]; returns the offset where inline data goes. */
export function writeFileHead(buf: Buffer, off: number, f: FileHeadFields, rel: Buffer, inlineLength: number): number {
  const payload = FILE_HEAD_FIXED + rel.length + inlineLength;
  buf.writeUInt32BE(payload + 1, off);
  buf[off + 4] = FrameType.fileHead;
  let o = off + FRAME_HEADER_BYTES;
  o = buf.writeUInt32BE(f.batch, o);
  o = buf.writeUInt32BE(f.idx, o);
  o = buf.writeUInt8(f.flags, o);
  o = buf.writeUInt32BE(f.mode, o);
  o = buf.writeUInt32BE(f.uid >>> 0, o);
  o = buf.writeUInt32BE(f.gid >>> 0, o);
  o = buf.writeBigInt64BE(f.atimeNs, o);
  o = buf.writeBigInt64BE(f.mtimeNs, o);
  o = buf.writeBigUInt64BE(BigInt(f.size), o);
  o = buf.writeUInt16BE(rel.length, o);
  o += rel.copy(buf, o);
  return o;
}

export function fileHeadLength(rel: Buffer, inlineLength: number): number {
  return FRAME_HEADER_BYTES + FILE_HEAD_FIXED + rel.length + inlineLength;
}

export interface FileHead extends FileHeadFields {
  rel: Buffer;
  inline: Buffer | null;
}

/** A u64 from the wire as a Number, refused beyond 2^53 - 1 (no real file is that large). */
function safeLength(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireError('bad-frame', `A record announces a ${what} of ${v} bytes, beyond any real file.`);
  return Number(v);
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new WireError('bad-frame', `A ${what} record is truncated (${p.length} bytes, needs ${n}).`);
}

export function readFileHead(p: Buffer): FileHead {
  need(p, FILE_HEAD_FIXED, 'fileHead');
  const relLen = p.readUInt16BE(FILE_HEAD_FIXED - 2);
  need(p, FILE_HEAD_FIXED + relLen, 'fileHead');
  const flags = p[8] as number;
  const size = safeLength(p.readBigUInt64BE(37), 'file size');
  const rest = p.subarray(FILE_HEAD_FIXED + relLen);
  let inline: Buffer | null = null;
  if (flags & FLAG_INLINE) {
    if (rest.length !== size) throw new WireError('bad-frame', `An inline file record carries ${rest.length} bytes for a size of ${size}.`);
    inline = rest;
  } else if (rest.length !== 0) {
    throw new WireError('bad-frame', 'A fileHead record has trailing bytes.');
  }
  return {
    batch: p.readUInt32BE(0),
    idx: p.readUInt32BE(4),
    flags,
    mode: p.readUInt32BE(9),
    uid: p.readUInt32BE(13),
    gid: p.readUInt32BE(17),
    atimeNs: p.readBigInt64BE(21),
    mtimeNs: p.readBigInt64BE(29),
    size,
    rel: p.subarray(FILE_HEAD_FIXED, FILE_HEAD_FIXED + relLen),
    inline,
  };
}

export const RANGE_HEAD_FIXED = 4 + 4 + 8 * 3 + 1;
const STAGE_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export interface RangeHead {
  batch: number;
  idx: number;
  fileSize: number;
  offset: number;
  length: number;
  stage: string;
  rel: Buffer;
}

export function rangeHeadLength(rel: Buffer, stage: string): number {
  return FRAME_HEADER_BYTES + RANGE_HEAD_FIXED + stage.length + 2 + rel.length;
}

export function writeRangeHead(buf: Buffer, off: number, r: RangeHead): number {
  buf.writeUInt32BE(RANGE_HEAD_FIXED + r.stage.length + 2 + r.rel.length + 1, off);
  buf[off + 4] = FrameType.rangeHead;
  let o = off + FRAME_HEADER_BYTES;
  o = buf.writeUInt32BE(r.batch, o);
  o = buf.writeUInt32BE(r.idx, o);
  o = buf.writeBigUInt64BE(BigInt(r.fileSize), o);
  o = buf.writeBigUInt64BE(BigInt(r.offset), o);
  o = buf.writeBigUInt64BE(BigInt(r.length), o);
  o = buf.writeUInt8(r.stage.length, o);
  o += buf.write(r.stage, o, 'latin1');
  o = buf.writeUInt16BE(r.rel.length, o);
  o += r.rel.copy(buf, o);
  return o;
}

/** A range must be non-empty, inside the file, and name its staging file with a safe key. */
export function readRangeHead(p: Buffer): RangeHead {
  need(p, RANGE_HEAD_FIXED, 'rangeHead');
  const stageLen = p[RANGE_HEAD_FIXED - 1] as number;
  need(p, RANGE_HEAD_FIXED + stageLen + 2, 'rangeHead');
  const stage = p.toString('latin1', RANGE_HEAD_FIXED, RANGE_HEAD_FIXED + stageLen);
  const relAt = RANGE_HEAD_FIXED + stageLen + 2;
  const relLen = p.readUInt16BE(relAt - 2);
  if (p.length !== relAt + relLen) throw new WireError('bad-frame', `A rangeHead record is ${p.length} bytes; its lengths add up to ${relAt + relLen}.`);
  if (!STAGE_KEY.test(stage)) throw new WireError('bad-frame', 'A rangeHead record names an invalid staging key.');
  const fileSize = safeLength(p.readBigUInt64BE(8), 'file size');
  const offset = safeLength(p.readBigUInt64BE(16), 'range offset');
  const length = safeLength(p.readBigUInt64BE(24), 'range length');
  if (length === 0 || offset + length > fileSize) throw new WireError('bad-frame', `A range [${offset}, +${length}) does not fit a file of ${fileSize} bytes.`);
  return { batch: p.readUInt32BE(0), idx: p.readUInt32BE(4), fileSize, offset, length, stage, rel: p.subarray(relAt, relAt + relLen) };
}

export const FILE_DATA_FIXED = 16;

/** Frame header + fileData record header (data follows); returns the data offset. */
export function writeFileDataHeader(buf: Buffer, off: number, batch: number, idx: number, offset: number, dataLength: number): number {
  buf.writeUInt32BE(FILE_DATA_FIXED + dataLength + 1, off);
  buf[off + 4] = FrameType.fileData;
  let o = off + FRAME_HEADER_BYTES;
  o = buf.writeUInt32BE(batch, o);
  o = buf.writeUInt32BE(idx, o);
  o = buf.writeBigUInt64BE(BigInt(offset), o);
  return o;
}

export function readFileData(p: Buffer): { batch: number; idx: number; offset: number; data: Buffer } {
  need(p, FILE_DATA_FIXED, 'fileData');
  return { batch: p.readUInt32BE(0), idx: p.readUInt32BE(4), offset: safeLength(p.readBigUInt64BE(8), 'data offset'), data: p.subarray(FILE_DATA_FIXED) };
}

export const FILE_END_OK_LENGTH = FRAME_HEADER_BYTES + 9 + 32;

export function writeFileEndOk(buf: Buffer, off: number, batch: number, idx: number, hash: Buffer): number {
  buf.writeUInt32BE(9 + 32 + 1, off);
  buf[off + 4] = FrameType.fileEnd;
  let o = off + FRAME_HEADER_BYTES;
  o = buf.writeUInt32BE(batch, o);
  o = buf.writeUInt32BE(idx, o);
  o = buf.writeUInt8(0, o);
  o += hash.copy(buf, o, 0, 32);
  return o;
}

export function encodeFileEndAbort(batch: number, idx: number, reason: string): Buffer {
  const r = Buffer.from(reason);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 9 + r.length);
  out.writeUInt32BE(9 + r.length + 1, 0);
  out[4] = FrameType.fileEnd;
  out.writeUInt32BE(batch, 5);
  out.writeUInt32BE(idx, 9);
  out[13] = 1;
  r.copy(out, 14);
  return out;
}

export function readFileEnd(p: Buffer): { batch: number; idx: number; ok: boolean; hash: Buffer | null; reason: string } {
  need(p, 9, 'fileEnd');
  const ok = p[8] === 0;
  if (ok && p.length !== 9 + 32) throw new WireError('bad-frame', 'A fileEnd record must carry a 32-byte SHA-256.');
  return {
    batch: p.readUInt32BE(0),
    idx: p.readUInt32BE(4),
    ok,
    hash: ok ? p.subarray(9, 41) : null,
    reason: ok ? '' : p.subarray(9).toString('utf8'),
  };
}

export interface SymlinkRecord {
  batch: number;
  idx: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  rel: Buffer;
  target: Buffer;
}

export function symlinkLength(rel: Buffer, target: Buffer): number {
  return FRAME_HEADER_BYTES + SYMLINK_FIXED + rel.length + target.length;
}

export function writeSymlink(buf: Buffer, off: number, s: SymlinkRecord): number {
  buf.writeUInt32BE(SYMLINK_FIXED + s.rel.length + s.target.length + 1, off);
  buf[off + 4] = FrameType.symlink;
  let o = off + FRAME_HEADER_BYTES;
  o = buf.writeUInt32BE(s.batch, o);
  o = buf.writeUInt32BE(s.idx, o);
  o = buf.writeUInt32BE(s.uid >>> 0, o);
  o = buf.writeUInt32BE(s.gid >>> 0, o);
  o = buf.writeBigInt64BE(s.atimeNs, o);
  o = buf.writeBigInt64BE(s.mtimeNs, o);
  o = buf.writeUInt16BE(s.rel.length, o);
  o += s.rel.copy(buf, o);
  o += s.target.copy(buf, o);
  return o;
}

export function readSymlink(p: Buffer): SymlinkRecord {
  need(p, SYMLINK_FIXED, 'symlink');
  const relLen = p.readUInt16BE(SYMLINK_FIXED - 2);
  need(p, SYMLINK_FIXED + relLen + 1, 'symlink');
  return {
    batch: p.readUInt32BE(0),
    idx: p.readUInt32BE(4),
    uid: p.readUInt32BE(8),
    gid: p.readUInt32BE(12),
    atimeNs: p.readBigInt64BE(16),
    mtimeNs: p.readBigInt64BE(24),
    rel: p.subarray(SYMLINK_FIXED, SYMLINK_FIXED + relLen),
    target: p.subarray(SYMLINK_FIXED + relLen),
  };
}

export function encodeBatchEnd(batch: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  out.writeUInt32BE(5, 0);
  out[4] = FrameType.batchEnd;
  out.writeUInt32BE(batch, 5);
  return out;
}

export function readBatchEnd(p: Buffer): number {
  need(p, 4, 'batchEnd');
  return p.readUInt32BE(0);
}

/**
 * Destination -> source: results of a batch. r: [idx, status, dstHash, readBackHash, code, reason,
 * stageId (ranges only: which staging file the range went into)].
 */
export interface BatchAck {
  batch: number;
  results: [idx: number, status: 'ok' | 'failed', dstHash: string | null, readBackHash: string | null, code: string | null, reason: string | null, stageId?: string][];
}
