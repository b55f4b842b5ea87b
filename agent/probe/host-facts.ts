/**
 * Probes the host this code runs on: OS, CPU, memory, free disk at a path, mounts with their
 * NFS option checks, and Ferry's prerequisites (4 cores, 8 GiB, 20 GiB free).
 * Runs in the controller for "This computer" and in agents for remote hosts; reads only.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { HostFacts, MountEntry, PrerequisiteCheck } from '../protocol/facts.ts';
import { parseMountInfo } from '../fs/mountinfo.ts';
import { checkNfsOptions, isNfsType } from './nfs-check.ts';

export const MIN_CPU_CORES = 4;
export const MIN_MEMORY_BYTES = 8 * 1024 ** 3;
export const MIN_FREE_DISK_BYTES = 20 * 1024 ** 3;
const GIB = 1024 ** 3;

export async function probeHostFacts(diskPath: string, mountInfoPath = '/proc/self/mountinfo'): Promise<HostFacts> {
  const [disk, mounts] = await Promise.all([diskSpace(diskPath), readMounts(mountInfoPath)]);
  const cpus = os.cpus();
  const facts = {
    hostname: os.hostname(),
    os: os.type(),
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    cpuCores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    disk,
    mounts: mounts ?? [],
    mountsReadable: mounts !== null,
    probedAt: new Date().toISOString(),
  };
  return { ...facts, prerequisites: checkPrerequisites(facts.cpuCores, facts.memoryBytes, disk.freeBytes) };
}

export function checkPrerequisites(cores: number, memoryBytes: number, freeDiskBytes: number): PrerequisiteCheck[] {
  return [
    {
      code: 'cpu-cores',
      ok: cores >= MIN_CPU_CORES,
      required: MIN_CPU_CORES,
      found: cores,
      message:
        cores >= MIN_CPU_CORES
          ? `${cores} CPU cores (at least ${MIN_CPU_CORES} needed).`
          : `Only ${cores} CPU cores; Ferry needs at least ${MIN_CPU_CORES} per host for its expected speed. Use a larger instance or plan more instances.`,
    },
    {
      code: 'memory',
      ok: memoryBytes >= MIN_MEMORY_BYTES * 0.95,
      required: MIN_MEMORY_BYTES,
      found: memoryBytes,
      message:
        memoryBytes >= MIN_MEMORY_BYTES * 0.95
          ? `${(memoryBytes / GIB).toFixed(1)} GiB memory (at least 8 GiB needed).`
          : `Only ${(memoryBytes / GIB).toFixed(1)} GiB memory; Ferry needs at least 8 GiB per host.`,
    },
    {
      code: 'disk-free',
      ok: freeDiskBytes >= MIN_FREE_DISK_BYTES,
      required: MIN_FREE_DISK_BYTES,
      found: freeDiskBytes,
      message:
        freeDiskBytes >= MIN_FREE_DISK_BYTES
          ? `${(freeDiskBytes / GIB).toFixed(1)} GiB free (at least 20 GiB needed).`
          : `Only ${(freeDiskBytes / GIB).toFixed(1)} GiB free where Ferry keeps its journal; free at least 20 GiB.`,
    },
  ];
}

async function diskSpace(diskPath: string): Promise<HostFacts['disk']> {
  const stats = await fs.statfs(diskPath);
  return { path: diskPath, freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

/** Mounts from mountinfo, or null where the host has none to read (macOS, Windows). */
async function readMounts(mountInfoPath: string): Promise<MountEntry[] | null> {
  let text: string;
  try {
    text = await fs.readFile(mountInfoPath, 'utf8');
  } catch {
    return null;
  }
  return parseMountInfo(text).map((m) => toMountEntry(m.mountPoint, m.fsType, m.source, m.superOptions));
}

export function toMountEntry(mountPoint: string, fsType: string, source: string, options: string[]): MountEntry {
  const isNfs = isNfsType(fsType);
  return { mountPoint, fsType, source, options, isNfs, warnings: isNfs ? checkNfsOptions(fsType, options) : [] };
}
