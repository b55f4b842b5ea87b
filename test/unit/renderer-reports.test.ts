// The Reports screen's rules: the virtual table's window maths (including the compressed
// scrollbar past a browser's height limit), keyboard moves, the problem page cache (each page
// fetched once, least recently used dropped, rows on screen kept, late answers of an old query
// ignored), safe path text, summary counts and verdicts, and the store's order of things.
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallName, ProblemRecord, ReportMeta } from '../../electron/contract/console.ts';
import type { ConsoleClient } from '../../renderer/src/api/client.ts';
import { ProblemPageCache, type ProblemPage } from '../../renderer/src/domain/reports-pages.ts';
import { printDocument } from '../../renderer/src/domain/reports-print.ts';
import { MAX_SCROLL_HEIGHT, rowAfterKey, rowsPerPage, scrollTopToReveal, visibleWindow, type Viewport } from '../../renderer/src/domain/reports-window.ts';
import {
  averageRate,
  base64ToHex,
  categoryTone,
  durationSeconds,
  durationShape,
  filterChoices,
  normalizeSearch,
  pathText,
  PROBLEM_CATEGORIES,
  sortReportsNewestFirst,
  summaryCounts,
  verdictOf,
} from '../../renderer/src/domain/reports.ts';
import { en } from '../../renderer/src/i18n/en.ts';
import { zhCN } from '../../renderer/src/i18n/zh-CN.ts';
import { useReportsStore } from '../../renderer/src/stores/reports.ts';
import { FakeTransport, installFakeConsole } from '../helpers/fake-console-transport.ts';

const view = (over: Partial<Viewport> = {}): Viewport => ({ scrollTop: 0, height: 360, rowHeight: 36, total: 100_000, overscan: 5, ...over });

describe('visible window', () => {
  it('renders the rows in view plus the overscan, at their place', () => {
    const top = visibleWindow(view());
    expect(top).toEqual({ first: 0, last: 15, top: 0, scrollHeight: 3_600_000 });
    const mid = visibleWindow(view({ scrollTop: 36 * 1000 + 10 }));
    expect(mid.first).toBe(995);
    expect(mid.last).toBe(1000 + 11 + 5);
    expect(mid.top).toBe(995 * 36);
    expect(mid.last - mid.first).toBeLessThan(30);
  });

  it('ends with the last row at the bottom, and clamps a scroll past the end', () => {
    const end = 100_000 * 36 - 360;
    const w = visibleWindow(view({ scrollTop: end }));
    expect(w.last).toBe(100_000);
    expect(w.first).toBe(100_000 - 10 - 5);
    expect(visibleWindow(view({ scrollTop: end + 5000 }))).toEqual(w);
    expect(visibleWindow(view({ scrollTop: -50 }))).toEqual(visibleWindow(view()));
  });

  it('handles nothing, and fewer rows than fit', () => {
    expect(visibleWindow(view({ total: 0 }))).toEqual({ first: 0, last: 0, top: 0, scrollHeight: 0 });
    expect(visibleWindow(view({ total: 3 }))).toEqual({ first: 0, last: 3, top: 0, scrollHeight: 108 });
  });

  it('compresses the scroll height past the browser limit and still reaches every row', () => {
    const total = 5_000_000; // 180 million px of rows
    const w0 = visibleWindow(view({ total }));
    expect(w0.scrollHeight).toBe(MAX_SCROLL_HEIGHT);
    const scrollEnd = MAX_SCROLL_HEIGHT - 360;
    const end = visibleWindow(view({ total, scrollTop: scrollEnd }));
    expect(end.last).toBe(total);
    // The last row's bottom sits exactly at the viewport's bottom.
    expect(end.top + (total - end.first) * 36).toBeCloseTo(scrollEnd + 360, 6);
    // Half way down the scrollbar is half way through the rows.
    const half = visibleWindow(view({ total, scrollTop: scrollEnd / 2 }));
    expect(Math.abs(half.first + 5 - (total - 10) / 2)).toBeLessThan(2);
    // Rows are drawn inside the viewport, wherever the scrollbar is.
    expect(half.top).toBeLessThanOrEqual(scrollEnd / 2);
    expect(half.top + (half.last - half.first) * 36).toBeGreaterThanOrEqual(scrollEnd / 2 + 360);
  });

  it('scrolls as little as needed to reveal a row', () => {
    const v = view({ scrollTop: 3600 }); // rows 100..109 in view
    expect(scrollTopToReveal(v, 105)).toBe(3600);
    expect(scrollTopToReveal(v, 110)).toBe(111 * 36 - 360);
    expect(scrollTopToReveal(v, 99)).toBe(99 * 36);
    expect(scrollTopToReveal(v, 99_999)).toBe(100_000 * 36 - 360);
    expect(scrollTopToReveal(v, -3)).toBe(0);
    const big = view({ total: 5_000_000, scrollTop: 0 });
    const toEnd = scrollTopToReveal(big, 4_999_999);
    expect(toEnd).toBeCloseTo(MAX_SCROLL_HEIGHT - 360, 6);
    expect(visibleWindow({ ...big, scrollTop: toEnd }).last).toBe(5_000_000);
  });

  it('moves the active row with the keys of a grid', () => {
    expect(rowsPerPage(360, 36)).toBe(10);
    expect(rowsPerPage(10, 36)).toBe(1);
    expect(rowAfterKey('ArrowDown', 0, 50, 10)).toBe(1);
    expect(rowAfterKey('ArrowUp', 0, 50, 10)).toBe(0);
    expect(rowAfterKey('PageDown', 45, 50, 10)).toBe(49);
    expect(rowAfterKey('PageUp', 5, 50, 10)).toBe(0);
    expect(rowAfterKey('End', 5, 50, 10)).toBe(49);
    expect(rowAfterKey('Home', 30, 50, 10)).toBe(0);
    expect(rowAfterKey('a', 3, 50, 10)).toBeNull();
    expect(rowAfterKey('ArrowDown', 0, 0, 10)).toBeNull();
  });
});

function record(i: number): ProblemRecord {
  return { path: { display: `dir/${i}` }, kind: 'file', category: 'failed', code: 'EACCES', reason: `row ${i}` };
}

/** A report of `total` records served from memory, answering when the test says so (or at once). */
class Server {
  readonly calls: Array<{ offset: number; limit: number }> = [];
  private held: Array<() => void> | null = null;
  constructor(readonly total: number) {}
  hold(): void {
    this.held = [];
  }
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) go();
  }
  fetch = (offset: number, limit: number): Promise<ProblemPage> => {
    this.calls.push({ offset, limit });
    const answer = () => ({ total: this.total, offset, records: Array.from({ length: Math.max(0, Math.min(limit, this.total - offset)) }, (_, k) => record(offset + k)) });
    if (!this.held) return Promise.resolve(answer());
    return new Promise((resolve) => this.held?.push(() => resolve(answer())));
  };
}

describe('problem page cache', () => {
  it('fetches the pages of a range once, and serves its rows', async () => {
    const server = new Server(100_000);
    let changes = 0;
    const cache = new ProblemPageCache(server.fetch, { pageSize: 100, onChange: () => (changes += 1) });
    expect(cache.total).toBeNull();
    await cache.start();
    expect(cache.total).toBe(100_000);
    expect(server.calls).toEqual([{ offset: 0, limit: 100 }]);
    await cache.ensure(50, 250);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 100, 200]);
    expect(cache.rowAt(249)?.reason).toBe('row 249');
    expect(cache.rowAt(300)).toBeUndefined();
    await cache.ensure(0, 250);
    expect(server.calls).toHaveLength(3);
    expect(changes).toBe(3);
  });

  it('asks for a page only once while it is on its way', async () => {
    const server = new Server(1000);
    const cache = new ProblemPageCache(server.fetch, { pageSize: 100 });
    server.hold();
    const a = cache.ensure(0, 150);
    const b = cache.ensure(100, 180);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 100]);
    server.release();
    await Promise.all([a, b]);
    expect(cache.rowAt(179)?.reason).toBe('row 179');
  });

  it('jumping to the end fetches only the last page, and its rows are the last records', async () => {
    const server = new Server(100_003);
    const cache = new ProblemPageCache(server.fetch, { pageSize: 100 });
    await cache.start();
    await cache.ensure(99_990, 100_003 + 20);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 99_900, 100_000]);
    expect(cache.rowAt(100_002)?.path.display).toBe('dir/100002');
    expect(cache.rowAt(100_003)).toBeUndefined();
  });

  it('keeps at most maxPages, dropping the least recently used but never the rows on screen', async () => {
    const server = new Server(100_000);
    const cache = new ProblemPageCache(server.fetch, { pageSize: 10, maxPages: 3 });
    await cache.ensure(0, 10);
    await cache.ensure(10, 20);
    await cache.ensure(20, 30);
    await cache.ensure(0, 10); // page 0 used again: page 1 is now the oldest
    await cache.ensure(30, 40);
    expect(cache.cachedPages).toBe(3);
    expect([0, 1, 2, 3].map((p) => cache.hasPage(p))).toEqual([true, false, true, true]);
    // A range wider than the cache stays whole while it is shown.
    await cache.ensure(100, 150);
    expect([10, 11, 12, 13, 14].every((p) => cache.hasPage(p))).toBe(true);
    expect(cache.cachedPages).toBe(5);
  });

  it('stays small while scrolling through 100,000 rows', async () => {
    const server = new Server(100_000);
    const cache = new ProblemPageCache(server.fetch, { pageSize: 100, maxPages: 30 });
    for (let first = 0; first < 100_000; first += 5000) await cache.ensure(first, first + 25);
    expect(cache.cachedPages).toBeLessThanOrEqual(30);
    expect(server.calls.length).toBe(20);
  });

  it('ignores answers that arrive after the query changed', async () => {
    const server = new Server(500);
    let changes = 0;
    const cache = new ProblemPageCache(server.fetch, { onChange: () => (changes += 1) });
    server.hold();
    const pending = cache.start();
    cache.dispose();
    server.release();
    await pending;
    expect(changes).toBe(0);
    expect(cache.total).toBeNull();
    expect(cache.rowAt(0)).toBeUndefined();
  });

  it('records a failed page, and a later success clears it', async () => {
    let fail = true;
    const cache = new ProblemPageCache(async (offset, limit) => {
      if (fail) throw new Error('Ferry is gone');
      return { total: 10, offset, records: Array.from({ length: Math.min(limit, 10 - offset) }, (_, k) => record(offset + k)) };
    });
    await cache.start();
    expect((cache.error as Error).message).toBe('Ferry is gone');
    fail = false;
    await cache.start();
    expect(cache.error).toBeNull();
    expect(cache.rowAt(9)?.reason).toBe('row 9');
  });

  it('keeps the page size within what the contract allows', () => {
    expect(new ProblemPageCache(async () => ({ total: 0, offset: 0, records: [] }), { pageSize: 50_000 }).pageSize).toBe(2000);
    expect(new ProblemPageCache(async () => ({ total: 0, offset: 0, records: [] }), { pageSize: 0 }).pageSize).toBe(1);
  });
});

describe('display rules', () => {
  it('shows paths as text: escaped bytes flagged, raw bytes in hex, invisible characters written out', () => {
    expect(pathText({ display: 'files/one' })).toEqual({ text: 'files/one', escapedBytes: false, invisible: false, rawHex: null });
    const gbk = pathText({ display: 'names/\\xc4\\xe3\\xba\\xc3', rawBase64: Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x73, 0x2f, 0xc4, 0xe3, 0xba, 0xc3]).toString('base64') });
    expect(gbk.text).toBe('names/\\xc4\\xe3\\xba\\xc3');
    expect(gbk.escapedBytes).toBe(true);
    expect(gbk.rawHex).toBe('6e 61 6d 65 73 2f c4 e3 ba c3');
    // U+202E would show "evil\u202Etxt.exe" as "evilexe.txt".
    const bidi = pathText({ display: 'evil\u202etxt.exe' });
    expect(bidi.text).toBe('evil\\u{202e}txt.exe');
    expect(bidi.invisible).toBe(true);
    expect(pathText({ display: '日本語/<b>x</b>' }).text).toBe('日本語/<b>x</b>');
    expect(base64ToHex('not base64!')).toBeNull();
  });

  it('lists newest reports first', () => {
    const meta = (id: string, finishedAt: string): ReportMeta => ({ id, taskName: id, taskId: id, source: '/a', destination: '/b', startedAt: finishedAt, finishedAt, passed: true, problems: 0, bytes: 0 });
    const sorted = sortReportsNewestFirst([meta('old', '2026-01-01T00:00:00Z'), meta('new', '2026-03-01T00:00:00Z'), meta('bad', 'nope'), meta('mid', '2026-02-01T00:00:00Z')]);
    expect(sorted.map((r) => r.id)).toEqual(['new', 'mid', 'old', 'bad']);
  });

  it('measures durations and rates', () => {
    expect(durationSeconds('2026-01-01T00:00:00Z', '2026-01-01T01:00:30Z')).toBe(3630);
    expect(durationSeconds('2026-01-01T00:00:10Z', '2026-01-01T00:00:00Z')).toBeNull();
    expect(durationSeconds('x', '2026-01-01T00:00:00Z')).toBeNull();
    expect(averageRate(1000, 4)).toBe(250);
    expect(averageRate(1000, 0)).toBeNull();
    expect(durationShape(2.345)).toEqual({ kind: 'seconds', seconds: 2.3 });
    expect(durationShape(3630)).toEqual({ kind: 'long', seconds: 3630 });
    expect(durationShape(null)).toEqual({ kind: 'unknown' });
  });

  const summary = {
    entries: 10,
    files: 6,
    dirs: 2,
    symlinks: 1,
    hardLinks: 0,
    copied: 5,
    bytesCopied: 4096,
    skippedUnchanged: 0,
    skippedByPolicy: 0,
    verified: 5,
    different: 0,
    missing: 0,
    extra: 0,
    deleted: 0,
    changedDuringMigration: 0,
    skipped: { total: 2, byReason: { socket: 1, fifo: 1 } },
    failed: { total: 3, byReason: { EACCES: 2, EIO: 1 } },
    wouldCopy: 0,
    wouldDelete: 0,
  };

  it('shows every summary count with a tone that says how much it matters', () => {
    const counts = summaryCounts(summary, false);
    const by = Object.fromEntries(counts.map((c) => [c.key, c]));
    expect(counts.map((c) => c.key)).not.toContain('wouldCopy');
    expect(summaryCounts(summary, true).map((c) => c.key)).toContain('wouldDelete');
    expect(by.failed).toMatchObject({ value: 3, tone: 'danger', byReason: [{ code: 'EACCES', count: 2 }, { code: 'EIO', count: 1 }] });
    expect(by.skipped).toMatchObject({ value: 2, tone: 'warn', byReason: [{ code: 'fifo', count: 1 }, { code: 'socket', count: 1 }] });
    expect(by.verified?.tone).toBe('ok');
    expect(by.different?.tone).toBe('neutral');
    expect(by.bytesCopied?.unit).toBe('bytes');
  });

  it('decides the verdict and the chips as the report says', () => {
    expect(verdictOf({ passed: true, error: null })).toBe('passed');
    expect(verdictOf({ passed: true, error: { code: 'mount-lost', message: 'gone' } })).toBe('failed');
    expect(verdictOf({ passed: false, error: null })).toBe('failed');
    expect(categoryTone('failed')).toBe('danger');
    expect(categoryTone('skipped')).toBe('warn');
    expect(categoryTone('would-copy')).toBe('neutral');
    const byCategory = Object.fromEntries(PROBLEM_CATEGORIES.map((c) => [c, 0])) as Record<(typeof PROBLEM_CATEGORIES)[number], number>;
    byCategory.failed = 3;
    byCategory.skipped = 2;
    expect(filterChoices({ all: 5, byCategory }, null)).toEqual([
      { category: null, count: 5 },
      { category: 'skipped', count: 2 },
      { category: 'failed', count: 3 },
    ]);
    expect(filterChoices({ all: 5, byCategory }, 'missing').map((c) => c.category)).toContain('missing');
    expect(filterChoices(null, null)).toEqual([{ category: null, count: null }]);
    expect(normalizeSearch(`  ${'x'.repeat(5000)} `)).toHaveLength(4096);
  });

  it('has its messages in both languages, with plurals in English', () => {
    expect(en.reports.count(1, '1')).toBe('1 report');
    expect(en.reports.count(2, '2')).toBe('2 reports');
    expect(en.reports.problemCount(1, '1')).toBe('1 entry');
    expect(en.reports.matching(3, '3')).toBe('3 entries match');
    expect(zhCN.reports.problemCount(3, '3')).toBe('3 个条目');
    for (const c of PROBLEM_CATEGORIES) expect(zhCN.reports.categories[c]).toMatch(/\S/);
  });
});

describe('printed report', () => {
  const header = {
    format: 'ferry-report' as const,
    version: 1 as const,
    taskId: 't1',
    source: '/mnt/old',
    destination: '/mnt/new',
    mode: 'full',
    verify: 'transferred' as const,
    dryRun: false,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:30Z',
    passed: false,
    error: null,
    summary: {
      entries: 3, files: 3, dirs: 0, symlinks: 0, hardLinks: 0, copied: 1, bytesCopied: 10, skippedUnchanged: 0, skippedByPolicy: 0, verified: 1,
      different: 0, missing: 0, extra: 0, deleted: 0, changedDuringMigration: 0,
      skipped: { total: 0, byReason: {} }, failed: { total: 2, byReason: { EACCES: 2 } }, wouldCopy: 0, wouldDelete: 0,
    },
  };
  const detail = { meta: { id: 'r1', taskName: 'projects', taskId: 't1', source: '/mnt/old', destination: '/mnt/new', startedAt: header.startedAt, finishedAt: header.finishedAt, passed: false, problems: 2, bytes: 10 }, header };
  const f = { num: (n: number) => String(n), bytes: (n: number) => `${n} B`, dateTime: (iso: string) => iso, duration: (s: number) => `${s} s` };

  it('says what it lists, escapes names, and the verdict and counts come first', () => {
    const rows = [{ path: { display: 'a\u202eb', rawBase64: undefined }, kind: 'file', category: 'failed' as const, code: 'EACCES', reason: 'denied' }];
    const doc = printDocument(detail, { category: 'failed', search: 'a' }, rows, 2, en.reports, f, 'en', new Date('2026-01-02T00:00:00Z'));
    expect(doc.title).toBe('Ferry verification report: projects');
    expect(doc.verdictWord).toBe('Failed');
    expect(doc.facts[0]).toEqual(['Source', '/mnt/old']);
    expect(doc.facts.find(([k]) => k === 'Duration')?.[1]).toBe('30 s');
    expect(doc.counts.find(([k]) => k === 'Failed')?.[1]).toBe('2 (EACCES: 2)');
    expect(doc.rows).toEqual([['Failed', 'a\\u{202e}b', 'EACCES', 'denied']]);
    expect(doc.scope).toBe('Failed, “a”: the first 1 of 2 entries. The CSV and JSON exports have all of them.');
    expect(printDocument(detail, { category: null, search: '' }, rows, 1, en.reports, f, 'en', new Date()).scope).toBe('All: 1 entry.');
  });
});

describe('reports store', () => {
  const META: ReportMeta = { id: 'r1', taskName: 'cli', taskId: 't1', source: '/src', destination: '/dst', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', passed: false, problems: 3, bytes: 10 };

  /** Answers like Ferry would, from one stored report with three problem records; logs the order of things. */
  class MemoryTransport extends FakeTransport {
    records: ProblemRecord[] = [record(0), { ...record(1), category: 'skipped', code: 'fifo' }, record(2)];
    async invoke(name: CallName, req: unknown): Promise<unknown> {
      this.log.push(`call ${name}`);
      const r = req as { offset?: number; limit?: number; category?: string | null; search?: string };
      switch (name) {
        case 'reports.list':
          return { ok: true, result: [META] };
        case 'reports.problems': {
          const matching = this.records.filter((p) => (r.category ? p.category === r.category : true) && p.path.display.includes(r.search ?? ''));
          const offset = r.offset ?? 0;
          return { ok: true, result: { total: matching.length, offset, records: matching.slice(offset, offset + (r.limit ?? 200)) } };
        }
        default:
          return { ok: false, error: { code: 'internal', message: `not in this test: ${name}` } };
      }
    }
  }

  let transport: MemoryTransport;
  let client: ConsoleClient;
  beforeEach(() => {
    transport = new MemoryTransport();
    client = installFakeConsole(transport);
  });

  it('subscribes to reports.changed before loading the list, and follows the event', async () => {
    const store = useReportsStore();
    await store.init();
    expect(transport.log.slice(0, 2)).toEqual(['subscribe reports.changed', 'call reports.list']);
    expect(store.sorted.map((r) => r.id)).toEqual(['r1']);
    client.event({ event: 'reports.changed', payload: [] });
    expect(store.reports).toEqual([]);
  });

  it('pages problems per query and counts each category under the search', async () => {
    const store = useReportsStore();
    await store.init();
    // Open without reports.get: set the query directly on an "open" report.
    store.openId = 'r1';
    await store.setQuery({ category: null, search: '' });
    expect(store.problems?.total).toBe(3);
    expect(store.counts?.all).toBe(3);
    expect(store.counts?.byCategory.skipped).toBe(1);
    expect(store.counts?.byCategory.failed).toBe(2);
    await store.setQuery({ category: 'failed', search: '' });
    expect(store.problems?.total).toBe(2);
    expect(store.counts?.all).toBe(3); // same search: the counts stay
    await store.setQuery({ category: null, search: ' dir/1 ' });
    expect(store.query.search).toBe('dir/1');
    expect(store.problems?.total).toBe(1);
    expect(store.counts?.byCategory.skipped).toBe(1);
    expect(store.counts?.byCategory.failed).toBe(0);
  });
});
