/**
 * A compact in-memory index of one stored report's problem records, so that a page costs O(page) and a
 * filter costs one scan of typed arrays, never a re-parse of the report. Per record it keeps the byte
 * offset and length of its line in the stored (canonical) report file, its category, and its display
 * path lowercased inside one '\n'-joined string that `indexOf` searches natively. About 17 bytes plus
 * the path per record: a million records with 60-character paths take well under 100 MB.
 * Contract: built from the canonical file (report-store.ts writes it) or fed record by record while
 * that file is written; records are read back from the file by offset. Never writes anything (its
 * on-disk form is index-file.ts).
 */
import { promises as fs } from 'node:fs';
import { ProblemCategory, type ProblemRecord } from '../../agent/protocol/report.ts';
import { eachStoredIndexEntry } from './stored-report.ts';

const CATEGORIES = ProblemCategory.options;
const CATEGORY_CODE = new Map<string, number>(CATEGORIES.map((c, i) => [c, i]));
/** Filtered result sets kept per index (the console pages through one filter at a time). */
const QUERY_CACHE_SIZE = 8;
/** Records closer than this in the file are read with one read call. */
const COALESCE_GAP_BYTES = 64 * 1024;

export interface ProblemPage {
  total: number;
  offset: number;
  records: ProblemRecord[];
}

export class ProblemIndexBuilder {
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private categories = new Uint8Array(1024);
  private paths: string[] = [];
  private count = 0;

  /** Adds the record whose JSON occupies `bytes` bytes at `offset` of the stored file. */
  add(display: string, category: string, offset: number, bytes: number): void {
    if (this.count === this.offsets.length) this.grow();
    this.offsets[this.count] = offset;
    this.lengths[this.count] = bytes;
    this.categories[this.count] = CATEGORY_CODE.get(category) ?? 0;
    this.paths.push(display.toLowerCase());
    this.count++;
  }

  private grow(): void {
    const size = this.offsets.length * 2;
    const offsets = new Float64Array(size);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(size);
    lengths.set(this.lengths);
    const categories = new Uint8Array(size);
    categories.set(this.categories);
    this.offsets = offsets;
    this.lengths = lengths;
    this.categories = categories;
  }

  build(file: string): ProblemIndex {
    const haystack = this.paths.join('\n');
    this.paths = [];
    const n = this.count;
    return new ProblemIndex(file, n, this.offsets.slice(0, n), this.lengths.slice(0, n), this.categories.slice(0, n), haystack);
  }
}

/** Where each record's path starts in the '\n'-joined haystack, plus the end sentinel. */
function startsOf(haystack: string, count: number): Uint32Array {
  const starts = new Uint32Array(count + 1);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = pos;
    const nl = haystack.indexOf('\n', pos);
    pos = nl === -1 ? haystack.length + 1 : nl + 1;
  }
  starts[count] = count === 0 ? 0 : haystack.length + 1;
  return starts;
}

/** Streams a canonical stored report once and indexes its records. */
export async function indexReportFile(file: string): Promise<ProblemIndex> {
  const builder = new ProblemIndexBuilder();
  await eachStoredIndexEntry(file, (display, category, offset, bytes) => builder.add(display, category, offset, bytes));
  return builder.build(file);
}

export class ProblemIndex {
  private readonly queries = new Map<string, Uint32Array | null>();

  constructor(
    readonly file: string,
    readonly count: number,
    /** Per record: byte offset and length of its JSON in `file`, and its category's code. */
    readonly offsets: Float64Array,
    readonly lengths: Uint32Array,
    readonly categories: Uint8Array,
    /** Lowercased display paths joined by '\n' (display forms never contain a raw newline). */
    readonly haystack: string,
    /** starts[i]: where record i's path begins in haystack; starts[count] = haystack.length + 1. */
    private readonly starts: Uint32Array = startsOf(haystack, count),
  ) {}

  /** Records per category. */
  categoryCounts(): Partial<Record<ProblemCategory, number>> {
    const counts = new Uint32Array(CATEGORIES.length);
    for (let i = 0; i < this.count; i++) counts[this.categories[i] as number] = (counts[this.categories[i] as number] as number) + 1;
    const out: Partial<Record<ProblemCategory, number>> = {};
    CATEGORIES.forEach((c, i) => {
      if (counts[i]) out[c] = counts[i];
    });
    return out;
  }

  /** One page of the records matching the filter; `total` counts all matches. */
  async page(query: { offset: number; limit: number; category: ProblemCategory | null; search: string }): Promise<ProblemPage> {
    const matches = this.matching(query.category, query.search);
    const total = matches ? matches.length : this.count;
    const end = Math.min(total, query.offset + query.limit);
    const ids: number[] = [];
    for (let k = query.offset; k < end; k++) ids.push(matches ? (matches[k] as number) : k);
    return { total, offset: query.offset, records: await this.read(ids) };
  }

  /** Record numbers matching the filter, in report order; null means all records. Cached per filter. */
  matching(category: ProblemCategory | null, search: string): Uint32Array | null {
    const needle = search.toLowerCase();
    if (category === null && needle === '') return null;
    const key = `${category ?? ''}\n${needle}`;
    const cached = this.queries.get(key);
    if (cached !== undefined) {
      this.queries.delete(key);
      this.queries.set(key, cached);
      return cached;
    }
    const result = needle === '' ? this.byCategory(CATEGORY_CODE.get(category as string) ?? -1) : this.bySearch(needle, category === null ? -1 : (CATEGORY_CODE.get(category) ?? -1));
    this.queries.set(key, result);
    if (this.queries.size > QUERY_CACHE_SIZE) this.queries.delete(this.queries.keys().next().value as string);
    return result;
  }

  private byCategory(code: number): Uint32Array {
    const out = new Uint32Array(this.count);
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.categories[i] === code) out[n++] = i;
    return out.slice(0, n);
  }

  private bySearch(needle: string, code: number): Uint32Array {
    const hits: number[] = [];
    if (needle.includes('\n')) return new Uint32Array(0);
    let pos = this.haystack.indexOf(needle);
    while (pos !== -1) {
      const record = this.recordAt(pos);
      if (code === -1 || this.categories[record] === code) hits.push(record);
      pos = this.haystack.indexOf(needle, this.starts[record + 1] as number);
    }
    return Uint32Array.from(hits);
  }

  /** The record whose path contains haystack position `pos` (binary search over starts). */
  private recordAt(pos: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.starts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads records by number from the stored file, coalescing neighbours into one read. */
  private async read(ids: number[]): Promise<ProblemRecord[]> {
    if (ids.length === 0) return [];
    const handle = await fs.open(this.file, 'r');
    try {
      const out: ProblemRecord[] = [];
      let i = 0;
      while (i < ids.length) {
        let j = i;
        const first = this.offsets[ids[i] as number] as number;
        let last = first + (this.lengths[ids[i] as number] as number);
        while (j + 1 < ids.length) {
          const next = this.offsets[ids[j + 1] as number] as number;
          if (next < last || next - last > COALESCE_GAP_BYTES) break;
          j++;
          last = next + (this.lengths[ids[j] as number] as number);
        }
        const buf = Buffer.allocUnsafe(last - first);
        const { bytesRead } = await handle.read(buf, 0, buf.length, first);
        if (bytesRead !== buf.length) throw new Error(`${this.file} changed while Ferry was reading it: import the report again.`);
        for (let k = i; k <= j; k++) {
          const id = ids[k] as number;
          const start = (this.offsets[id] as number) - first;
          out.push(JSON.parse(buf.toString('utf8', start, start + (this.lengths[id] as number))) as ProblemRecord);
        }
        i = j + 1;
      }
      return out;
    } finally {
      await handle.close();
    }
  }
}
