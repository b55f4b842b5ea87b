/**
 * The host inventory: hosts the operator defined, persisted in `<data-dir>/hosts.json`.
 * Owns validation beyond the schema (unique names). Never stores secrets.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { Host, type HostSpec } from '../contract/console.ts';
import { ControllerError } from './errors.ts';
import { JsonStore } from './store/json-store.ts';

const HostsFile = z.object({ version: z.literal(1), hosts: z.array(Host) });

export class HostsService {
  private readonly store: JsonStore<typeof HostsFile>;

  constructor(
    dataDir: string,
    private readonly onChange: (hosts: Host[]) => void,
    /** Where the plan uses a host name; a used host cannot be removed or renamed. */
    private readonly usage: (name: string) => Promise<string[]> = async () => [],
  ) {
    this.store = new JsonStore(path.join(dataDir, 'hosts.json'), HostsFile, () => ({ version: 1 as const, hosts: [] }));
  }

  async list(): Promise<Host[]> {
    return (await this.store.load()).hosts;
  }

  async add(spec: HostSpec): Promise<Host> {
    const now = new Date().toISOString();
    const host: Host = { ...spec, id: randomUUID(), createdAt: now, updatedAt: now };
    const file = await this.store.update((f) => {
      assertUniqueName(f.hosts, spec.name, null);
      return { ...f, hosts: [...f.hosts, host] };
    });
    this.onChange(file.hosts);
    return host;
  }

  async update(id: string, spec: HostSpec): Promise<Host> {
    const current = (await this.list()).find((h) => h.id === id);
    if (current && current.name !== spec.name) await this.assertUnused(current.name, 'rename');
    let updated: Host | undefined;
    const file = await this.store.update((f) => {
      const current = f.hosts.find((h) => h.id === id);
      if (!current) throw new ControllerError('not-found', `No host with id ${id}. Reload the host list.`);
      assertUniqueName(f.hosts, spec.name, id);
      updated = { ...current, ...spec, updatedAt: new Date().toISOString() };
      return { ...f, hosts: f.hosts.map((h) => (h.id === id ? (updated as Host) : h)) };
    });
    this.onChange(file.hosts);
    return updated as Host;
  }

  private async assertUnused(name: string, action: 'remove' | 'rename'): Promise<void> {
    const uses = await this.usage(name);
    if (uses.length > 0) {
      throw new ControllerError('conflict', `Host "${name}" is used by ${uses.join(', ')}. Take it out of there before you ${action} it.`);
    }
  }

  async remove(id: string): Promise<boolean> {
    const host = (await this.list()).find((h) => h.id === id);
    if (!host) return false;
    await this.assertUnused(host.name, 'remove');
    const file = await this.store.update((f) => ({ ...f, hosts: f.hosts.filter((h) => h.id !== id) }));
    this.onChange(file.hosts);
    return true;
  }
}

function assertUniqueName(hosts: Host[], name: string, exceptId: string | null): void {
  if (hosts.some((h) => h.name === name && h.id !== exceptId)) {
    throw new ControllerError('conflict', `A host named "${name}" already exists. Choose another name or edit that host.`, [
      { path: 'name', message: `"${name}" is already used by another host.` },
    ]);
  }
}
