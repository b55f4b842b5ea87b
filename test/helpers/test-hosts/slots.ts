/**
 * Test lab slots: each lab in any process takes one numbered slot, which fixes all its names
 * (namespaces `ferry-<slot>-*`, bridges `fbr<2*slot>`/`fbr<2*slot+1>`, veths `fv<slot>-*`/`fw<slot>-*`)
 * and its subnets (198.18.<slot>.0/24 public, 198.19.<slot>.0/24 private), so parallel test files
 * never collide. A slot is held by a lock file naming the holder's pid; a slot whose holder is gone
 * is taken over and everything named after it is removed first (leftovers of a crashed run).
 * Never touches a name outside its own prefixes.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipQuiet, runCommand } from './run.ts';

export const LOCK_DIR = '/run/ferry-test-lab';
export const MAX_SLOTS = 64;

export interface SlotNames {
  slot: number;
  nsPrefix: string;
  bridge: string;
  privateBridge: string;
  /** Root-side veth name of the host with this index on the public / private bridge. */
  veth(index: number): string;
  privateVeth(index: number): string;
  publicSubnet: string;
  privateSubnet: string;
  publicAddress(n: number): string;
  privateAddress(n: number): string;
}

export function slotNames(slot: number): SlotNames {
  return {
    slot,
    nsPrefix: `ferry-${slot}-`,
    bridge: `fbr${2 * slot}`,
    privateBridge: `fbr${2 * slot + 1}`,
    veth: (i) => `fv${slot}-${i}`,
    privateVeth: (i) => `fw${slot}-${i}`,
    publicSubnet: `198.18.${slot}.0/24`,
    privateSubnet: `198.19.${slot}.0/24`,
    publicAddress: (n) => `198.18.${slot}.${n}`,
    privateAddress: (n) => `198.19.${slot}.${n}`,
  };
}

export function lockPath(slot: number): string {
  return path.join(LOCK_DIR, `slot-${slot}.lock`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderAlive(file: string): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return true; // vanished or being written: treat as taken, try the next slot
  const pid = Number(text.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid);
}

/** Takes a free slot (cleaning up after dead holders on the way); returns it with its names. */
export async function acquireSlot(labId: string): Promise<SlotNames> {
  await fs.mkdir(LOCK_DIR, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const file = lockPath(slot);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await fs.open(file, 'wx');
        await handle.writeFile(`${process.pid} ${labId}\n`);
        await handle.close();
        const names = slotNames(slot);
        await cleanupSlot(names);
        return names;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await holderAlive(file)) break;
      // Dead holder: whoever renames the stale lock away first may retry this slot.
      const stale = `${file}.stale.${process.pid}.${labId}`;
      const won = await fs.rename(file, stale).then(
        () => true,
        () => false,
      );
      if (won) await fs.rm(stale, { force: true });
    }
  }
  throw new Error(`test lab: all ${MAX_SLOTS} lab slots are taken (${LOCK_DIR}); are that many labs running?`);
}

/** Cleans every slot whose holder died (a crashed run's namespaces, sshd processes, bridges, dirs). */
export async function reapStaleSlots(): Promise<number[]> {
  const names = await fs.readdir(LOCK_DIR).catch(() => [] as string[]);
  const reaped: number[] = [];
  for (const name of names) {
    const match = /^slot-(\d+)\.lock$/.exec(name);
    if (!match) continue;
    const file = path.join(LOCK_DIR, name);
    if (await holderAlive(file)) continue;
    const stale = `${file}.reaping.${process.pid}`;
    const won = await fs.rename(file, stale).then(
      () => true,
      () => false,
    );
    if (!won) continue;
    // Hold the slot while cleaning, so nobody builds on it meanwhile.
    const handle = await fs.open(file, 'wx').catch(() => null);
    await fs.rm(stale, { force: true });
    if (!handle) continue;
    await handle.writeFile(`${process.pid} reaper\n`);
    await handle.close();
    await cleanupSlot(slotNames(Number(match[1])));
    await fs.rm(file, { force: true });
    reaped.push(Number(match[1]));
  }
  return reaped;
}

/** Whether this lab still holds its slot (a reaper may have taken it if the lab was presumed dead). */
export async function holdsSlot(names: SlotNames, labId: string): Promise<boolean> {
  const text = await fs.readFile(lockPath(names.slot), 'utf8').catch(() => '');
  return text.trim() === `${process.pid} ${labId}`;
}

export async function releaseSlot(names: SlotNames, labId: string): Promise<void> {
  if (await holdsSlot(names, labId)) await fs.rm(lockPath(names.slot), { force: true });
}

/** Pids of processes in a network namespace (sshd, sessions, agents started in the host). */
export async function namespacePids(ns: string): Promise<number[]> {
  const result = await runCommand('ip', ['netns', 'pids', ns]);
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Kills every process in the namespace (by pid) and waits until they are gone. */
export async function killNamespaceProcesses(ns: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await namespacePids(ns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Removes everything named after this slot: namespaces (and their processes), bridges, route. */
export async function cleanupSlot(names: SlotNames): Promise<void> {
  const list = await runCommand('ip', ['netns', 'list']);
  const namespaces = list.stdout
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((n) => n.startsWith(names.nsPrefix));
  await Promise.all(
    namespaces.map(async (ns) => {
      await killNamespaceProcesses(ns);
      await ipQuiet('netns', 'del', ns);
    }),
  );
  const links = await runCommand('ip', ['-o', 'link', 'show']);
  const ours = links.stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)[:@]/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`fv${names.slot}-`) || n.startsWith(`fw${names.slot}-`));
  for (const link of ours) await ipQuiet('link', 'del', link);
  await ipQuiet('link', 'del', names.bridge);
  await ipQuiet('link', 'del', names.privateBridge);
  await ipQuiet('route', 'del', 'unreachable', names.privateSubnet);
  const tmp = os.tmpdir();
  const dirs = (await fs.readdir(tmp).catch(() => [] as string[])).filter((d) => d.startsWith(labDirPrefix(names.slot)));
  await Promise.all(dirs.map((d) => fs.rm(path.join(tmp, d), { recursive: true, force: true })));
}

/** Lab working directories (keys, sshd configs, each host's /root) are `<tmpdir>/ferry-lab-<slot>-*`. */
export function labDirPrefix(slot: number): string {
  return `ferry-lab-${slot}-`;
}
