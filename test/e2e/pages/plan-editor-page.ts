/**
 * What the plan editor screens (Tunnels, Mounts, Data addresses, Tasks) share: a list with
 * rows, inline Edit / Remove with confirmation, a form with `field-*` controls and `error-*`
 * messages, and the notices for a refused change.
 */
import type { Locator, Page } from 'playwright-core';

export abstract class PlanEditorPage {
  readonly view: Locator;
  readonly heading: Locator;
  readonly form: Locator;
  readonly submit: Locator;
  readonly formDone: Locator;
  readonly formProblem: Locator;
  readonly listProblem: Locator;
  readonly listDone: Locator;
  readonly nextStep: Locator;

  constructor(
    readonly page: Page,
    view: string,
    form: string,
    readonly rowSelector: string,
  ) {
    this.view = page.locator(`[data-test=${view}]`);
    this.heading = this.view.locator('h1');
    this.form = page.locator(`[data-test=${form}]`);
    this.submit = this.form.locator('[data-test=submit]');
    this.formDone = this.form.locator('[data-test=form-done]');
    this.formProblem = this.form.locator('[data-test=form-problem]');
    this.listProblem = this.view.locator('[data-test=list-problem]');
    this.listDone = this.view.locator('[data-test=list-done]');
    this.nextStep = this.view.locator('[data-test=next-step]');
  }

  get rows(): Locator {
    return this.page.locator(`[data-test=${this.rowSelector}]`);
  }

  row(name: string): Locator {
    return this.page.locator(`[data-test=${this.rowSelector}][data-name="${name}"]`);
  }

  field(name: string): Locator {
    return this.form.locator(`[data-test=field-${name}]`);
  }

  fieldError(name: string): Locator {
    return this.form.locator(`[data-test="error-${name}"]`);
  }

  async edit(row: Locator): Promise<void> {
    await row.locator('[data-test=edit]').click();
  }

  async remove(row: Locator): Promise<void> {
    await row.locator('[data-test=remove]').click();
    await row.locator('[data-test=confirm-remove]').click();
  }
}
