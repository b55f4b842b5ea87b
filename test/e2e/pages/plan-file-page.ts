/** Page object for the Plan file step: export (code block + download) and import (paste or pick). */
import type { Locator, Page } from 'playwright-core';

export class PlanFilePage {
  readonly view: Locator;
  readonly yaml: Locator;
  readonly download: Locator;
  readonly refresh: Locator;
  readonly importText: Locator;
  readonly importFile: Locator;
  readonly importSubmit: Locator;
  readonly importProblems: Locator;
  readonly importProblem: Locator;
  readonly importDone: Locator;

  constructor(readonly page: Page) {
    this.view = page.locator('[data-test=plan-file-view]');
    this.yaml = page.locator('[data-test=export-yaml]');
    this.download = page.locator('[data-test=export-download]');
    this.refresh = page.locator('[data-test=export-refresh]');
    this.importText = page.locator('[data-test=import-text]');
    this.importFile = page.locator('[data-test=import-file]');
    this.importSubmit = page.locator('[data-test=import-submit]');
    this.importProblems = page.locator('[data-test=import-problems]');
    this.importProblem = page.locator('[data-test=import-problem]');
    this.importDone = page.locator('[data-test=import-done]');
  }

  /** The exported YAML as text (line numbers are drawn, not part of the text). */
  async yamlText(): Promise<string> {
    return this.page.evaluate<string>(
      `[...document.querySelectorAll('[data-test=export-yaml] .line')].map((l) => [...l.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('')).join('\\n')`,
    );
  }
}
