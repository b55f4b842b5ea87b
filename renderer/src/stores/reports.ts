/**
 * Reports store: the stored verification reports (reports.list, kept current by
 * `reports.changed`), the open report (reports.get), its problem records as a page cache per
 * query (reports.problems), the per-category counts for the filter, imports, exports and
 * removal. A cache of controller state: the records themselves stay with Ferry and are
 * fetched a page at a time as the table scrolls. Calls Ferry refuses throw ConsoleCallError
 * (with field issues) for the form to show, or land in an error ref.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CallResponse, ProblemCategory, ProblemRecord, ReportExportFormat, ReportMeta } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import { ProblemPageCache } from '../domain/reports-pages.ts';
import { normalizeSearch, PROBLEM_CATEGORIES, sortReportsNewestFirst, type CategoryCounts } from '../domain/reports.ts';
import { useSnapshot, type LoadStatus } from './snapshot.ts';

export type ReportDetail = CallResponse<'reports.get'>;

export interface ProblemQuery {
  category: ProblemCategory | null;
  search: string;
}

/** Where Ferry wrote an export, and which shell asks: the web console then downloads it, the desktop app shows the path. */
export type ExportedFile = CallResponse<'reports.export'> & { shell: 'electron' | 'web' };

export const useReportsStore = defineStore('ferry.reports', () => {
  const reports = ref<ReportMeta[]>([]);
  const { status, error, apply: applyList, load, init: startSnapshot } = useSnapshot('reports.list', {}, keepList);

  /** The open report; `detailStatus` says whether it is loading, there, or failed (e.g. removed). */
  const openId = ref<string | null>(null);
  const detail = shallowRef<ReportDetail | null>(null);
  const detailStatus = ref<LoadStatus>('idle');
  const detailError = ref<Problem | null>(null);

  const query = ref<ProblemQuery>({ category: null, search: '' });
  /** The open report's rows for the current query; replaced (never mutated) when the query changes. */
  const problems = shallowRef<ProblemPageCache | null>(null);
  /** Bumped whenever a page arrives or fails, so views redraw the rows they show. */
  const problemsVersion = ref(0);
  const counts = shallowRef<CategoryCounts | null>(null);
  /** The report this console removed last (the view leaves its page and says so). */
  const lastRemoved = ref<{ id: string; taskName: string } | null>(null);
  /** A removal on its way: its own reports.changed is not "removed elsewhere". */
  let removing: string | null = null;

  /** Bumped per opened report and query; late answers for an older one are dropped. */
  let generation = 0;
  /** Bumped per counted search; counts for an older search are dropped. */
  let countsGeneration = 0;

  const sorted = computed(() => sortReportsNewestFirst(reports.value));

  function keepList(next: ReportMeta[]): void {
    reports.value = next;
    // The open report was removed elsewhere (another console tab, the CLI): say so.
    if (openId.value !== null && openId.value !== removing && detailStatus.value === 'ready' && !next.some((r) => r.id === openId.value)) {
      detailStatus.value = 'error';
      detailError.value = { code: 'not-found', message: 'This report was removed.' };
      problems.value?.dispose();
      problems.value = null;
    }
  }

  const init = () => startSnapshot((api) => api.on('reports.changed', applyList));

  /** Adds a report file by its path on Ferry's computer; throws ConsoleCallError when Ferry refuses it. */
  async function importFile(path: string): Promise<ReportMeta> {
    const meta = await consoleApi().call('reports.importFile', { path });
    lastRemoved.value = null;
    if (!reports.value.some((r) => r.id === meta.id)) applyList([...reports.value, meta]);
    return meta;
  }

  async function remove(id: string): Promise<void> {
    const taskName = reports.value.find((r) => r.id === id)?.taskName ?? detail.value?.meta.taskName ?? id;
    removing = id;
    try {
      await consoleApi().call('reports.remove', { id });
      if (reports.value.some((r) => r.id === id)) applyList(reports.value.filter((r) => r.id !== id));
      lastRemoved.value = { id, taskName };
    } finally {
      removing = null;
    }
  }

  /** Opens a report: its header, then the first page of its problems and the category counts. */
  async function open(id: string): Promise<void> {
    if (openId.value === id && detailStatus.value !== 'error') return;
    close();
    lastRemoved.value = null;
    openId.value = id;
    const mine = ++generation;
    detailStatus.value = 'loading';
    try {
      const answer = await consoleApi().call('reports.get', { id });
      if (mine !== generation) return;
      detail.value = answer;
      detailStatus.value = 'ready';
      detailError.value = null;
      await setQuery({ category: null, search: '' });
    } catch (err) {
      if (mine !== generation) return;
      detailError.value = describeError(err);
      detailStatus.value = 'error';
    }
  }

  function close(): void {
    generation += 1;
    countsGeneration += 1;
    openId.value = null;
    detail.value = null;
    detailStatus.value = 'idle';
    detailError.value = null;
    problems.value?.dispose();
    problems.value = null;
    counts.value = null;
    query.value = { category: null, search: '' };
  }

  /** Shows the open report's problems for another category or search (a fresh page cache). */
  async function setQuery(next: ProblemQuery): Promise<void> {
    const id = openId.value;
    if (id === null) return;
    const normalized = { category: next.category, search: normalizeSearch(next.search) };
    const searchChanged = normalized.search !== query.value.search || counts.value === null;
    query.value = normalized;
    generation += 1;
    problems.value?.dispose();
    const cache = new ProblemPageCache(
      (offset, limit) => consoleApi().call('reports.problems', { id, offset, limit, category: normalized.category, search: normalized.search }),
      { onChange: () => (problemsVersion.value += 1) },
    );
    problems.value = cache;
    problemsVersion.value += 1;
    await Promise.all([cache.start(), searchChanged ? loadCounts(id, normalized.search) : Promise.resolve()]);
  }

  /** How many records each category has under the current search (one small call per category). */
  async function loadCounts(id: string, search: string): Promise<void> {
    const mine = ++countsGeneration;
    try {
      const totals = await Promise.all(
        [null, ...PROBLEM_CATEGORIES].map(async (category) => (await consoleApi().call('reports.problems', { id, offset: 0, limit: 1, category, search })).total),
      );
      if (mine !== countsGeneration) return;
      const [all = 0, ...rest] = totals;
      counts.value = { all, byCategory: Object.fromEntries(PROBLEM_CATEGORIES.map((c, i) => [c, rest[i] ?? 0])) as Record<ProblemCategory, number> };
    } catch {
      if (mine === countsGeneration) counts.value = null; // the chips show no numbers; the table reports the failure
    }
  }

  /**
   * The open report's records for the current query, for printing: pages of 2000 up to `cap`.
   * Returns them with the query's total (which may be more than `cap`).
   */
  async function printableProblems(cap: number): Promise<{ rows: ProblemRecord[]; total: number }> {
    const id = openId.value;
    if (id === null) return { rows: [], total: 0 };
    const { category, search } = query.value;
    const rows: ProblemRecord[] = [];
    let total = Infinity;
    while (rows.length < Math.min(cap, total)) {
      const page = await consoleApi().call('reports.problems', { id, offset: rows.length, limit: Math.min(2000, cap - rows.length), category, search });
      total = page.total;
      if (page.records.length === 0) break;
      rows.push(...page.records);
    }
    return { rows, total: Number.isFinite(total) ? total : rows.length };
  }

  /** Has Ferry write an export into its data directory; throws ConsoleCallError when it cannot. */
  async function exportReport(id: string, format: ReportExportFormat): Promise<ExportedFile> {
    const api = consoleApi();
    return { ...(await api.call('reports.export', { id, format })), shell: api.shell };
  }

  return {
    reports,
    sorted,
    status,
    error,
    openId,
    detail,
    detailStatus,
    detailError,
    query,
    problems,
    problemsVersion,
    counts,
    lastRemoved,
    init,
    load,
    importFile,
    remove,
    open,
    close,
    setQuery,
    exportReport,
    printableProblems,
  };
});
