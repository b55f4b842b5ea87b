/** Page object for the Task step's source scan: the per-task "Scan source" button and the results panel. */
import type { Locator, Page } from 'playwright-core';

export class ScanPanelPage {
  readonly panel: Locator;
  readonly again: Locator;
  readonly running: Locator;
  readonly results: Locator;
  readonly error: Locator;
  readonly entries: Locator;
  readonly bytes: Locator;
  readonly files: Locator;
  readonly dirs: Locator;
  readonly depth: Locator;
  readonly buckets: Locator;
  readonly hugeDirs: Locator;
  readonly warnings: Locator;
  readonly estimate: Locator;
  readonly duration: Locator;
  readonly bound: Locator;

  constructor(readonly page: Page) {
    this.panel = page.locator('[data-test=scan-panel]');
    this.again = this.panel.locator('[data-test=scan-again]');
    this.running = this.panel.locator('[data-test=scan-running]');
    this.results = this.panel.locator('[data-test=scan-results]');
    this.error = this.panel.locator('[data-test=scan-error]');
    this.entries = this.panel.locator('[data-test=scan-entries]');
    this.bytes = this.panel.locator('[data-test=scan-bytes]');
    this.files = this.panel.locator('[data-test=scan-files]');
    this.dirs = this.panel.locator('[data-test=scan-dirs]');
    this.depth = this.panel.locator('[data-test=scan-depth]');
    this.buckets = this.panel.locator('[data-test=scan-bucket]');
    this.hugeDirs = this.panel.locator('[data-test=scan-huge-dir]');
    this.warnings = this.panel.locator('[data-test=scan-warning]');
    this.estimate = this.panel.locator('[data-test=scan-estimate]');
    this.duration = this.panel.locator('[data-test=scan-duration]');
    this.bound = this.panel.locator('[data-test=scan-bound]');
  }

  /** The "Scan source" button in a task's row. */
  scanButton(task: string): Locator {
    return this.page.locator(`[data-test=scan-task][data-task="${task}"]`);
  }

  warning(code: string): Locator {
    return this.panel.locator(`[data-test=scan-warning][data-code="${code}"]`);
  }
}
