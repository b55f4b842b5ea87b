/** Page object for the Tasks step: task definitions and their options. */
import type { Locator, Page } from 'playwright-core';
import { PlanEditorPage } from './plan-editor-page.ts';

export class TasksPage extends PlanEditorPage {
  readonly mirrorWarning: Locator;
  readonly windows: Locator;
  readonly addWindow: Locator;

  constructor(page: Page) {
    super(page, 'tasks-view', 'task-form', 'task-row');
    this.mirrorWarning = page.locator('[data-test=mirror-warning]');
    this.windows = this.form.locator('[data-test=window]');
    this.addWindow = this.form.locator('[data-test=window-add]');
  }

  /** Adds glob patterns to a chip list by typing each and pressing Enter. */
  async addChips(field: 'include' | 'exclude', values: string[]): Promise<void> {
    const input = this.field(field).locator('input');
    for (const v of values) {
      await input.fill(v);
      await input.press('Enter');
    }
  }

  chips(field: 'include' | 'exclude'): Locator {
    return this.field(field).locator('[data-test=chip]');
  }

  facts(name: string): Locator {
    return this.row(name).locator('[data-test=task-facts] .badge');
  }
}
