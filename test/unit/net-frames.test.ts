// Cutting a byte stream into frames: frames that arrive whole, frames spread over many socket
// chunks (assembled in a recycled spare buffer), lengths refused before their payload, and a stream
// that ends mid-frame.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, keptBytes, recycleFrame } from '../../agent/net/frames.ts';
import type { Frame } from '../../agent/net/frames.ts';
import { WireError } from '../../agent/net/wire-error.ts';
import { MAX_CHUNK } from '../../agent/protocol/wire.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Splits bytes into pieces of `size` (the way TLS hands over its records). */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('FrameDecoder', () => {
  it('delivers frames of every size byte-exact when they arrive in 16 KiB pieces, reusing spare buffers', () => {
    const payloads = [MAX_CHUNK + 21, 70_000, 5, MAX_CHUNK + 21, 200_000, MAX_CHUNK + 21, 3 * MAX_CHUNK].map((n) => randomBytes(n));
    const stream = Buffer.concat(payloads.map((p, i) => encodeFrame(10 + i, p)));
    const decoder = new FrameDecoder(4 * MAX_CHUNK);
    const got: { type: number; hash: string }[] = [];
    const sparesSeen = new Set<ArrayBufferLike>();
    let assembled = 0;
    for (const piece of pieces(stream, 16 * 1024)) {
      for (const f of decoder.push(piece)) {
        got.push({ type: f.type, hash: sha(f.payload) });
        if (f.spare) {
          assembled++;
          sparesSeen.add(f.spare.buffer);
        }
        recycleFrame(f);
      }
    }
    decoder.end();
    expect(got).toEqual(payloads.map((p, i) => ({ type: 10 + i, hash: sha(p) })));
    // Five frames between 64 KiB and a data frame's size were assembled in spares; recycled, one was enough.
    expect(assembled).toBe(5);
    expect(sparesSeen.size).toBe(1);
  });

  it('a frame that is kept must be copied: its spare buffer holds the next frame once recycled', () => {
    const a = randomBytes(100_000);
    const b = randomBytes(100_000);
    const decoder = new FrameDecoder();
    let first: Frame | undefined;
    let copy: Buffer = Buffer.alloc(0);
    for (const piece of pieces(Buffer.concat([encodeFrame(1, a), encodeFrame(2, b)]), 16 * 1024)) {
      for (const f of decoder.push(piece)) {
        if (!first) {
          first = f;
          copy = keptBytes(f, f.payload);
        }
        recycleFrame(f);
      }
    }
    expect(copy.equals(a)).toBe(true);
    expect(first?.payload.equals(a)).toBe(false);
  });

  it('keptBytes of a frame in its own buffer or a socket chunk is the view itself, and it stays valid', () => {
    const small = randomBytes(5000);
    const spanning = randomBytes(30_000);
    const later = randomBytes(100_000);
    const decoder = new FrameDecoder();
    const kept: Buffer[] = [];
    const stream = Buffer.concat([encodeFrame(1, small), encodeFrame(2, spanning), encodeFrame(3, later)]);
    for (const piece of pieces(stream, 16 * 1024)) {
      for (const f of decoder.push(piece)) {
        if (f.type !== 3) {
          const k = keptBytes(f, f.payload);
          expect(f.spare).toBeUndefined();
          expect(k).toBe(f.payload); // no copy
          kept.push(k);
        }
        recycleFrame(f);
      }
    }
    expect(kept.map(sha)).toEqual([sha(small), sha(spanning)]);
  });

  it('refuses an oversized length from its 4 bytes, and a stream that ends mid-frame', () => {
    const big = Buffer.alloc(4);
    big.writeUInt32BE(1000, 0);
    expect(() => new FrameDecoder(999).push(big)).toThrow(WireError);
    const cut = new FrameDecoder();
    expect(cut.push(encodeFrame(1, Buffer.alloc(100)).subarray(0, 50))).toEqual([]);
    expect(() => cut.end()).toThrow(/in the middle of a frame/);
  });
});
