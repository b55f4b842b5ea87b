/**
 * Host facts: what a host (the operator's computer or a migration host) reports about itself.
 * Pure schemas, no IO. Shared by the agent (which probes remote hosts), the controller
 * (which probes "This computer") and, through the console contract, the renderer.
 */
import { z } from 'zod';

/** One deviation of an NFS mount from Ferry's recommended options. `code` is stable; the console translates it. */
export const MountWarning = z.object({
  code: z.enum([
    'nfs-version',
    'nfs-soft',
    'nfs-not-hard',
    'nfs-resvport',
    'nfs-rsize',
    'nfs-wsize',
    'nfs-timeo',
    'nfs-retrans',
  ]),
  option: z.string(),
  found: z.string().nullable(),
  recommended: z.string(),
  message: z.string(),
});
export type MountWarning = z.infer<typeof MountWarning>;

export const MountEntry = z.object({
  mountPoint: z.string(),
  fsType: z.string(),
  source: z.string(),
  options: z.array(z.string()),
  isNfs: z.boolean(),
  warnings: z.array(MountWarning),
});
export type MountEntry = z.infer<typeof MountEntry>;

export const PrerequisiteCheck = z.object({
  code: z.enum(['cpu-cores', 'memory', 'disk-free']),
  ok: z.boolean(),
  required: z.number(),
  found: z.number(),
  message: z.string(),
});
export type PrerequisiteCheck = z.infer<typeof PrerequisiteCheck>;

export const HostFacts = z.object({
  hostname: z.string(),
  os: z.string(),
  platform: z.string(),
  release: z.string(),
  arch: z.string(),
  cpuCores: z.number().int().nonnegative(),
  cpuModel: z.string(),
  memoryBytes: z.number().nonnegative(),
  isRoot: z.boolean(),
  disk: z.object({ path: z.string(), freeBytes: z.number().nonnegative(), totalBytes: z.number().nonnegative() }),
  mounts: z.array(MountEntry),
  mountsReadable: z.boolean(),
  prerequisites: z.array(PrerequisiteCheck),
  probedAt: z.string(),
});
export type HostFacts = z.infer<typeof HostFacts>;
