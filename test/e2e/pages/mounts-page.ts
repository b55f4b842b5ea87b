/**
 * Page object for the Mounts step: mount spec form, the mount command it builds, the list, and per
 * mount spec the checks on its tunnel's hosts and the confirmed mount (dialog and results).
 */
import type { Locator, Page } from 'playwright-core';
import { PlanEditorPage } from './plan-editor-page.ts';

export class MountsPage extends PlanEditorPage {
  readonly command: Locator;
  readonly options: Locator;
  readonly mountOnHostsNote: Locator;
  readonly dialog: Locator;
  readonly dialogCommand: Locator;
  readonly dialogSudo: Locator;
  readonly confirmMount: Locator;
  readonly cancelMount: Locator;

  constructor(page: Page) {
    super(page, 'mounts-view', 'mount-form', 'mount-spec-row');
    this.command = page.locator('[data-test=mount-command] [data-test=code]');
    this.options = page.locator('[data-test=mount-options] .option-row');
    this.mountOnHostsNote = page.locator('[data-test=mount-on-hosts-note]');
    this.dialog = page.locator('[data-test=mount-dialog]');
    this.dialogCommand = this.dialog.locator('[data-test=mount-dialog-command] [data-test=code]');
    this.dialogSudo = this.dialog.locator('[data-test=mount-dialog-sudo]');
    this.confirmMount = this.dialog.locator('[data-test=confirm-mount]');
    this.cancelMount = this.dialog.locator('[data-test=cancel-mount]');
  }

  mountRow(tunnel: string, directory: string): Locator {
    return this.page.locator(`[data-test=mount-spec-row][data-tunnel="${tunnel}"][data-directory="${directory}"]`);
  }

  checkButton(tunnel: string, directory: string): Locator {
    return this.mountRow(tunnel, directory).locator('[data-test=check-on-hosts]');
  }

  mountButton(tunnel: string, directory: string): Locator {
    return this.mountRow(tunnel, directory).locator('[data-test=mount-on-hosts]');
  }

  /** The results row under a mount spec (checks and the last mount run). */
  results(tunnel: string, directory: string): Locator {
    return this.page.locator(`[data-test=mount-results-row][data-tunnel="${tunnel}"][data-directory="${directory}"]`);
  }

  hostCheck(tunnel: string, directory: string, host: string): Locator {
    return this.results(tunnel, directory).locator(`[data-test=mount-host-check][data-host="${host}"]`);
  }

  applyHost(tunnel: string, directory: string, host: string): Locator {
    return this.results(tunnel, directory).locator(`[data-test=mount-apply-host][data-host="${host}"]`);
  }

  /** The codes of the findings shown for one host, in order. */
  async findingCodes(host: Locator): Promise<string[]> {
    return host.locator('[data-test=mount-finding]').evaluateAll((els) => els.map((e) => e.getAttribute('data-code') ?? ''));
  }

  /** Clicks "Check on hosts" and waits until the check's summary is there. */
  async checkOnHosts(tunnel: string, directory: string): Promise<Locator> {
    await this.checkButton(tunnel, directory).click();
    const summary = this.results(tunnel, directory).locator('[data-test=mount-check-summary]');
    await this.results(tunnel, directory).locator('[data-test=mount-op-pending]').waitFor({ state: 'detached' });
    await summary.waitFor();
    return summary;
  }

  dialogHost(name: string): Locator {
    return this.dialog.locator(`[data-test=mount-dialog-host][data-host="${name}"] [data-test=mount-dialog-host-check]`);
  }

  async fillMount(mount: { nasType: 'general' | 'extreme'; tunnel: string; server: string; export: string; directory: string }): Promise<void> {
    await this.field(`nasType-${mount.nasType}`).check();
    await this.field('tunnel').selectOption(mount.tunnel);
    await this.field('server').fill(mount.server);
    await this.field('export').fill(mount.export);
    await this.field('directory').fill(mount.directory);
  }
}
