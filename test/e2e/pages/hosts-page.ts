/** Page object for the Hosts screen: "This computer", its mounts, the host inventory and the add-host form. */
import type { Locator, Page } from 'playwright-core';

export interface HostInput {
  name: string;
  address: string;
  port?: number;
  user?: string;
  auth?: 'agent' | 'key' | 'password';
  keyFile?: string;
}

export class HostsPage {
  readonly view: Locator;
  readonly heading: Locator;
  readonly thisComputer: Locator;
  readonly refreshFacts: Locator;
  readonly checkedAt: Locator;
  readonly prerequisites: Locator;
  readonly mounts: Locator;
  readonly mountsTable: Locator;
  readonly mountRows: Locator;
  readonly showSystemMounts: Locator;
  readonly systemMountCount: Locator;
  readonly inventory: Locator;
  readonly inventoryEmpty: Locator;
  readonly inventoryCount: Locator;
  readonly mountCommand: Locator;
  readonly hostRows: Locator;
  readonly form: Locator;
  readonly submit: Locator;
  readonly formDone: Locator;
  readonly formError: Locator;

  constructor(readonly page: Page) {
    this.view = page.locator('[data-test=hosts-view]');
    this.heading = this.view.locator('h1');
    this.thisComputer = page.locator('[data-test=this-computer]');
    this.refreshFacts = page.locator('[data-test=refresh-facts]');
    this.checkedAt = page.locator('[data-test=facts-checked-at]');
    this.prerequisites = page.locator('[data-test=prerequisites]');
    this.mounts = page.locator('[data-test=mounts]');
    this.mountsTable = page.locator('[data-test=mounts-table]');
    this.mountRows = page.locator('[data-test=mount-row]');
    this.showSystemMounts = page.locator('[data-test=show-system-mounts]');
    this.systemMountCount = page.locator('[data-test=mounts-system-count]');
    this.inventory = page.locator('[data-test=inventory]');
    this.inventoryEmpty = this.inventory.locator('[data-test=inventory-empty]');
    this.inventoryCount = page.locator('[data-test=inventory-count]');
    this.mountCommand = this.inventory.locator('[data-test=mount-command] [data-test=code]');
    this.hostRows = page.locator('[data-test=host-row]');
    this.form = page.locator('[data-test=add-host-form]');
    this.submit = page.locator('[data-test=add-host-submit]');
    this.formDone = page.locator('[data-test=add-host-done]');
    this.formError = page.locator('[data-test=add-host-error]');
  }

  /** Waits until the facts of this computer are shown. */
  async ready(): Promise<void> {
    await this.fact('hostname').waitFor();
    await this.inventory.locator('[data-test=inventory-count]').waitFor();
  }

  fact(name: 'os' | 'hostname' | 'arch' | 'cores' | 'cpu-model' | 'memory' | 'disk' | 'root'): Locator {
    return this.thisComputer.locator(`[data-test=fact-${name}]`);
  }

  prerequisite(code: 'cpu-cores' | 'memory' | 'disk-free'): Locator {
    return this.prerequisites.locator(`[data-test=prereq-${code}]`);
  }

  mountRow(mountPoint: string): Locator {
    return this.page.locator(`[data-test=mount-row][data-mount-point="${mountPoint}"]`);
  }

  mountWarnings(mountPoint: string): Locator {
    return this.page.locator(`[data-test=mount-warnings][data-mount-point="${mountPoint}"] [data-test=mount-warning]`);
  }

  hostRow(name: string): Locator {
    return this.page.locator(`[data-test=host-row][data-host-name="${name}"]`);
  }

  field(name: 'name' | 'address' | 'port' | 'user' | 'auth' | 'keyFile'): Locator {
    return this.form.locator(`[data-test=field-${name}]`);
  }

  fieldError(name: 'name' | 'address' | 'port' | 'user' | 'auth' | 'keyFile'): Locator {
    return this.form.locator(`[data-test=error-${name}]`);
  }

  async fillHost(host: HostInput): Promise<void> {
    await this.field('name').fill(host.name);
    await this.field('address').fill(host.address);
    if (host.port !== undefined) await this.field('port').fill(String(host.port));
    if (host.user !== undefined) await this.field('user').fill(host.user);
    if (host.auth !== undefined) await this.field('auth').selectOption(host.auth);
    if (host.keyFile !== undefined) await this.field('keyFile').fill(host.keyFile);
  }

  async addHost(host: HostInput): Promise<void> {
    await this.fillHost(host);
    await this.submit.click();
  }

  async removeHost(name: string): Promise<void> {
    const row = this.hostRow(name);
    await row.locator('[data-test=remove-host]').click();
    await row.locator('[data-test=confirm-remove]').click();
  }
}
