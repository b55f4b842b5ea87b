/**
 * Owns cutting a byte stream into frames (u32 BE length, u8 type, payload; see protocol/wire.ts) and
 * building frames. Rejects a length over MAX_FRAME_LENGTH as soon as the 4 length bytes arrive (never
 * buffers an oversized payload) and reports a stream that ends mid-frame as truncated.
 * Never does IO itself.
 */
import { FRAME_HEADER_BYTES, MAX_CHUNK, MAX_FRAME_LENGTH } from '../protocol/wire.ts';
import { WireError } from './wire-error.ts';

/**
 * A frame as delivered. Its payload is valid only while the handler runs (Connection recycles the
 * buffer of a frame it had to assemble): a handler that keeps any of its bytes must copy them.
 */
export interface Frame {
  type: number;
  payload: Buffer;
  /** The shared spare buffer this frame was assembled in, given back by recycleFrame. */
  spare?: Buffer;
}

/**
 * Spare buffers for frames that span socket chunks (every 1 MiB data frame does: TLS hands over
 * 16 KiB records), shared by every connection of the process. Reusing them spares the allocation of
 * a 1 MiB buffer per frame, whose external memory would otherwise drive V8 into a full GC every few
 * dozen MiB received.
 */
const SPARE_SIZE = MAX_CHUNK + 64 * 1024;
const SPARE_MIN = 64 * 1024;
const MAX_SPARES = 8;
const spares: Buffer[] = [];

/**
 * Bytes of a frame's payload that a handler keeps after it returns: a copy when the frame was
 * assembled in a spare buffer (recycled for the next frame), else the view itself (socket chunks
 * and frames assembled in their own buffer are never reused; a kept view pins that one chunk).
 */
export function keptBytes(frame: Frame, bytes: Buffer): Buffer {
  return frame.spare ? Buffer.from(bytes) : bytes;
}

/** Gives a delivered frame's spare buffer back for the next frame (call once its handler returned). */
export function recycleFrame(frame: Frame): void {
  if (frame.spare && spares.length < MAX_SPARES) spares.push(frame.spare);
  frame.spare = undefined;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly maxLength: number;

  constructor(maxLength = MAX_FRAME_LENGTH) {
    this.maxLength = maxLength;
  }

  /** Appends bytes; returns the complete frames now available. Throws WireError on a bad length. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const length = this.peekLength();
      if (length === 0) throw new WireError('bad-frame', 'A frame with length 0 (no type byte) arrived.');
      if (length > this.maxLength) {
        throw new WireError('frame-too-large', `A frame of ${length} bytes arrived; the limit is ${this.maxLength}.`);
      }
      if (this.buffered < 4 + length) return out;
      out.push(this.take(4 + length));
    }
  }

  /** Bytes of an unfinished frame; at end of stream anything here means the peer stopped mid-frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Throws 'truncated-frame' if the stream ended in the middle of a frame. */
  end(): void {
    if (this.buffered > 0) {
      throw new WireError('truncated-frame', `The connection ended in the middle of a frame (${this.buffered} bytes of an incomplete frame).`);
    }
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(this.buffered, 8));
    return head.readUInt32BE(0);
  }

  /** The next n bytes (a whole frame) as a Frame: a view of one chunk, or assembled from several. */
  private take(n: number): Frame {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return { type: out[4] as number, payload: out.subarray(FRAME_HEADER_BYTES) };
    }
    const spare = n >= SPARE_MIN && n <= SPARE_SIZE ? (spares.pop() ?? Buffer.allocUnsafe(SPARE_SIZE)) : undefined;
    const out = spare ? spare.subarray(0, n) : Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    const frame: Frame = { type: out[4] as number, payload: out.subarray(FRAME_HEADER_BYTES) };
    if (spare) frame.spare = spare;
    return frame;
  }
}

/** Header (length + type) for a payload of payloadLength bytes. */
export function frameHeader(type: number, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(payloadLength + 1, 0);
  h[4] = type;
  return h;
}

/** A whole frame in one buffer. */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out[4] = type;
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function encodeJsonFrame(type: number, value: unknown): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(value)));
}
