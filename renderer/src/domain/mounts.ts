/**
 * How the console groups the mounts a host reports: NFS first (they matter for migrations),
 * and kernel pseudo file systems marked as "system" so the table can hide them by default.
 * Pure; no Vue, no DOM.
 */
import { recommendedMountCommand, type MountEntry } from '../../../electron/contract/console.ts';

/** File system types that never hold migration data: kernel interfaces and runtime scratch. */
const SYSTEM_FS_TYPES = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'sysfs',
  'tracefs',
]);

export function isSystemMount(mount: Pick<MountEntry, 'fsType' | 'mountPoint' | 'isNfs'>): boolean {
  if (mount.isNfs) return false;
  if (SYSTEM_FS_TYPES.has(mount.fsType)) return true;
  // tmpfs under the kernel's own trees (/dev/shm, /sys/fs/cgroup, /run/...) is runtime scratch.
  return mount.fsType === 'tmpfs' && /^\/(dev|sys|proc|run)(\/|$)/.test(mount.mountPoint);
}

export interface MountView {
  rows: MountEntry[];
  total: number;
  nfs: number;
  /** System (pseudo file system) mounts, shown or not. */
  system: number;
  hiddenSystem: number;
}

/** Rows to show (NFS first, then the kernel's order), with the counts the header displays. */
export function mountView(mounts: readonly MountEntry[], showSystem: boolean): MountView {
  const nfs = mounts.filter((m) => m.isNfs);
  const others = mounts.filter((m) => !m.isNfs);
  const system = others.filter((m) => isSystemMount(m)).length;
  const visibleOthers = showSystem ? others : others.filter((m) => !isSystemMount(m));
  return { rows: [...nfs, ...visibleOthers], total: mounts.length, nfs: nfs.length, system, hiddenSystem: others.length - visibleOthers.length };
}

/**
 * The NFS mount command Ferry recommends, with placeholders for the NAS, export and mount point.
 */
export const RECOMMENDED_MOUNT_COMMAND = recommendedMountCommand('NAS', '/export', '/mnt/nas');
