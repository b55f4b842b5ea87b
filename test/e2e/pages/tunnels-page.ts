/** Page object for the Tunnels step: the tunnel list and its form (name, role, hosts). */
import type { Locator, Page } from 'playwright-core';
import { PlanEditorPage } from './plan-editor-page.ts';

export class TunnelsPage extends PlanEditorPage {
  readonly empty: Locator;
  readonly fewerNotice: Locator;

  constructor(page: Page) {
    super(page, 'tunnels-view', 'tunnel-form', 'tunnel-row');
    this.empty = page.locator('[data-test=tunnels-empty]');
    this.fewerNotice = page.locator('[data-test=tunnels-fewer-notice]');
  }

  hostOption(name: string): Locator {
    return this.form.locator(`[data-test=host-option][data-host="${name}"]`);
  }

  async create(tunnel: { name: string; role: 'source' | 'destination'; hosts: string[] }): Promise<void> {
    await this.field('name').fill(tunnel.name);
    await this.field(`role-${tunnel.role}`).check();
    for (const host of tunnel.hosts) await this.hostOption(host).check();
    await this.submit.click();
  }

  hostCheck(name: string): Locator {
    return this.row(name).locator('[data-test=tunnel-host-check]');
  }
}
