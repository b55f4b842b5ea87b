/**
 * Page object for the Reports step: the report list with its import form, and one report's page
 * (summary, export / remove actions, the virtual problem table with its filter and search).
 */
import type { Locator, Page } from 'playwright-core';

export class ReportsPage {
  readonly listView: Locator;
  readonly empty: Locator;
  readonly rows: Locator;
  readonly importPath: Locator;
  readonly importSubmit: Locator;
  readonly importError: Locator;
  readonly reportView: Locator;
  readonly missing: Locator;
  readonly back: Locator;
  readonly summary: Locator;
  readonly verdict: Locator;
  readonly table: Locator;
  readonly tableRows: Locator;
  readonly total: Locator;
  readonly search: Locator;
  readonly detail: Locator;
  readonly exportDone: Locator;
  readonly removeButton: Locator;
  readonly confirmRemove: Locator;

  constructor(readonly page: Page) {
    this.listView = page.locator('[data-test=reports-view]');
    this.empty = page.locator('[data-test=reports-empty]');
    this.rows = page.locator('[data-test=report-row]');
    this.importPath = page.locator('[data-test=report-import-path]');
    this.importSubmit = page.locator('[data-test=report-import-submit]');
    this.importError = page.locator('[data-test=report-import-error]');
    this.reportView = page.locator('[data-test=report-view]');
    this.missing = page.locator('[data-test=report-missing]');
    this.back = page.locator('[data-test=report-back]');
    this.summary = page.locator('[data-test=report-summary]');
    this.verdict = page.locator('[data-test=report-verdict]');
    this.table = page.locator('[data-test=virtual-table]');
    this.tableRows = page.locator('[data-test=vt-row]');
    this.total = page.locator('[data-test=problem-total]');
    this.search = page.locator('[data-test=problem-search]');
    this.detail = page.locator('[data-test=problem-detail]');
    this.exportDone = page.locator('[data-test=export-done]');
    this.removeButton = page.locator('[data-test=remove-report]');
    this.confirmRemove = page.locator('[data-test=confirm-remove]');
  }

  async importFile(path: string): Promise<void> {
    await this.importPath.fill(path);
    await this.importSubmit.click();
  }

  row(id: string): Locator {
    return this.page.locator(`[data-test=report-row][data-id="${id}"]`);
  }

  count(key: string): Locator {
    return this.page.locator(`[data-test=report-count][data-key="${key}"]`);
  }

  filter(category: string | 'all'): Locator {
    return this.page.locator(`[data-test=filter-${category}]`);
  }

  exportButton(format: 'html' | 'csv' | 'json' | 'print'): Locator {
    return this.page.locator(`[data-test=export-${format}]`);
  }

  /** The table's total once the first page arrived (the status line's data-total). */
  async shownTotal(): Promise<number> {
    return Number(await this.total.getAttribute('data-total'));
  }

  /** The rows the table has loaded and drawn right now: index, category, path, reason. */
  async visibleRecords(): Promise<Array<{ index: number; category: string; path: string; reason: string }>> {
    return this.page.evaluate<Array<{ index: number; category: string; path: string; reason: string }>>(`
      [...document.querySelectorAll('[data-test=vt-row]')]
        .filter((row) => row.querySelector('[data-test=problem-path]'))
        .map((row) => ({
          index: Number(row.getAttribute('data-index')),
          category: row.querySelector('[data-test=problem-category]').getAttribute('data-category'),
          path: row.querySelector('[data-test=problem-path]').getAttribute('title'),
          reason: row.querySelector('[data-test=problem-reason]').getAttribute('title'),
        }))`);
  }

  /** Waits until the table has drawn a loaded row with this path. */
  async waitForPath(path: string): Promise<void> {
    await this.page.locator('[data-test=problem-path]', { hasText: path }).first().waitFor();
  }
}
