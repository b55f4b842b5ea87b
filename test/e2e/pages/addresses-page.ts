/** Page object for the Data addresses step. */
import type { Locator, Page } from 'playwright-core';
import { PlanEditorPage } from './plan-editor-page.ts';

export class AddressesPage extends PlanEditorPage {
  readonly agentsSummary: Locator;

  constructor(page: Page) {
    super(page, 'addresses-view', 'address-form', 'address-row');
    this.agentsSummary = page.locator('[data-test=agents-summary]');
  }

  agentOption(host: string): Locator {
    return this.form.locator(`[data-test=agent-option][data-host="${host}"]`);
  }

  async fillAddress(address: { name: string; tunnel: string; directory: string }): Promise<void> {
    await this.field('name').fill(address.name);
    await this.field('tunnel').selectOption(address.tunnel);
    await this.field('directory').fill(address.directory);
  }
}
