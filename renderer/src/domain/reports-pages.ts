/**
 * A small cache of problem-record pages for one query (report, category, search): the virtual
 * table asks for a row range, the cache fetches the pages it lacks (each page once, however
 * often it is asked for), keeps the most recently used ones up to a limit, and never evicts
 * the pages on screen. A cache belongs to one query: a new filter or search gets a new cache,
 * and a disposed cache ignores answers still on their way. No Vue, no DOM: the fetcher is
 * given, and `onChange` tells the owner to redraw.
 */
import type { ProblemRecord } from '../../../electron/contract/console.ts';

export interface ProblemPage {
  total: number;
  offset: number;
  records: ProblemRecord[];
}

export type PageFetcher = (offset: number, limit: number) => Promise<ProblemPage>;

export interface PageCacheOptions {
  /** Records per request (the contract allows 1..2000). */
  pageSize?: number;
  /** Pages kept in memory; the least recently used beyond this are dropped. */
  maxPages?: number;
  onChange?: () => void;
}

export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_MAX_PAGES = 30;

export class ProblemPageCache {
  readonly pageSize: number;
  readonly maxPages: number;
  /** Records in the query, once the first answer told; null before. */
  total: number | null = null;
  /** The last failed fetch, cleared by the next success. */
  error: unknown = null;
  /** Pages fetched so far (a measure for tests and the status line). */
  requests = 0;

  private readonly pages = new Map<number, ProblemRecord[]>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private pinned = new Set<number>();
  private disposed = false;

  constructor(
    private readonly fetcher: PageFetcher,
    private readonly options: PageCacheOptions = {},
  ) {
    this.pageSize = Math.min(2000, Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE));
    this.maxPages = Math.max(1, options.maxPages ?? DEFAULT_MAX_PAGES);
  }

  /** The pages holding rows [first, last). */
  pagesFor(first: number, last: number): number[] {
    if (last <= first) return [];
    const out: number[] = [];
    for (let p = Math.floor(first / this.pageSize); p <= Math.floor((last - 1) / this.pageSize); p++) out.push(p);
    return out;
  }

  /** The record at a row, or undefined while its page is not here. */
  rowAt(index: number): ProblemRecord | undefined {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    return page?.[index % this.pageSize];
  }

  hasPage(page: number): boolean {
    return this.pages.has(page);
  }

  get cachedPages(): number {
    return this.pages.size;
  }

  /**
   * Makes rows [first, last) available: pins their pages (so they are not evicted while shown),
   * fetches the missing ones, and resolves when all of them are in (or failed).
   */
  async ensure(first: number, last: number): Promise<void> {
    const wanted = this.pagesFor(Math.max(0, first), this.total === null ? last : Math.min(last, this.total));
    this.pinned = new Set(wanted);
    for (const p of wanted) this.touch(p);
    await Promise.all(wanted.filter((p) => !this.pages.has(p)).map((p) => this.fetchPage(p)));
  }

  /** The first page: gives the total (and the first rows) for a new query. */
  start(): Promise<void> {
    return this.ensure(0, this.pageSize);
  }

  dispose(): void {
    this.disposed = true;
    this.pages.clear();
    this.inFlight.clear();
  }

  private fetchPage(page: number): Promise<void> {
    const running = this.inFlight.get(page);
    if (running) return running;
    this.requests += 1;
    const job = this.fetcher(page * this.pageSize, this.pageSize).then(
      (answer) => {
        if (this.disposed) return;
        this.total = answer.total;
        this.error = null;
        this.pages.set(page, answer.records);
        this.evict();
        this.options.onChange?.();
      },
      (err: unknown) => {
        if (this.disposed) return;
        this.error = err;
        this.options.onChange?.();
      },
    );
    const tracked = job.finally(() => this.inFlight.delete(page));
    this.inFlight.set(page, tracked);
    return tracked;
  }

  /** Marks a page as just used (Map order is the recency order). */
  private touch(page: number): void {
    const records = this.pages.get(page);
    if (records === undefined) return;
    this.pages.delete(page);
    this.pages.set(page, records);
  }

  private evict(): void {
    for (const page of this.pages.keys()) {
      if (this.pages.size <= this.maxPages) return;
      if (!this.pinned.has(page)) this.pages.delete(page);
    }
  }
}
