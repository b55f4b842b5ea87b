/** Page object for the Mounts step: mount spec form, the mount command it builds, and the list. */
import type { Locator, Page } from 'playwright-core';
import { PlanEditorPage } from './plan-editor-page.ts';

export class MountsPage extends PlanEditorPage {
  readonly command: Locator;
  readonly options: Locator;
  readonly mountOnHosts: Locator;

  constructor(page: Page) {
    super(page, 'mounts-view', 'mount-form', 'mount-spec-row');
    this.command = page.locator('[data-test=mount-command] [data-test=code]');
    this.options = page.locator('[data-test=mount-options] .option-row');
    this.mountOnHosts = page.locator('[data-test=mount-on-hosts]');
  }

  mountRow(tunnel: string, directory: string): Locator {
    return this.page.locator(`[data-test=mount-spec-row][data-tunnel="${tunnel}"][data-directory="${directory}"]`);
  }

  async fillMount(mount: { nasType: 'general' | 'extreme'; tunnel: string; server: string; export: string; directory: string }): Promise<void> {
    await this.field(`nasType-${mount.nasType}`).check();
    await this.field('tunnel').selectOption(mount.tunnel);
    await this.field('server').fill(mount.server);
    await this.field('export').fill(mount.export);
    await this.field('directory').fill(mount.directory);
  }
}
