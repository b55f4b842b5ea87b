/**
 * Owns finding the data in a sparse file, so the source reads (and sends) only the data parts:
 * `dataSegments` walks SEEK_DATA / SEEK_HOLE through the addon. Without the addon (or on a
 * filesystem that reports no holes) the whole file is one segment; the destination then still keeps
 * holes by skipping all-zero blocks (AtomicFileWriter's sparse mode), see native.ts.
 */
import { classify } from './errors.ts';
import { loadNative } from './native.ts';

/** A half-open byte range [start, end) that holds data. */
export type Segment = [start: number, end: number];

/**
 * The data ranges of the open file `fd`, clipped to `size` (the size the caller is copying), in order,
 * non-overlapping. A file of size 0, or one that is all hole, has no segments. Segment boundaries come
 * from the filesystem (block granularity), so a segment can contain zeros.
 */
export function dataSegments(fd: number, size: number): Segment[] {
  if (size <= 0) return [];
  const n = loadNative();
  if (!n) return [[0, size]];
  const out: Segment[] = [];
  let pos = 0;
  try {
    while (pos < size) {
      const data = n.seekData(fd, pos);
      if (data < 0 || data >= size) break;
      let hole = n.seekHole(fd, data);
      if (hole < 0 || hole > size) hole = size;
      if (hole <= data) break; // the file changed under us; what we have is all we can say
      out.push([data, hole]);
      pos = hole;
    }
  } catch (err) {
    // EINVAL etc. from a filesystem without SEEK_DATA support: treat the file as all data.
    const e = classify(err);
    if (e.errno === 'EINVAL' || e.errno === 'EOPNOTSUPP' || e.errno === 'ENOSYS') return [[0, size]];
    throw e;
  }
  return out;
}

/** Total bytes in the segments. */
export function segmentsBytes(segments: readonly Segment[]): number {
  let total = 0;
  for (const [s, e] of segments) total += e - s;
  return total;
}
