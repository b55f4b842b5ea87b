// Grouping of a host's mounts for display: NFS first, kernel pseudo file systems hidden on request.
import { describe, expect, it } from 'vitest';
import { toMountEntry } from '../../agent/probe/host-facts.ts';
import { isSystemMount, mountView, RECOMMENDED_MOUNT_COMMAND } from '../../renderer/src/domain/mounts.ts';
import { recommendedMountCommand } from '../../agent/probe/nfs-check.ts';

const mounts = [
  toMountEntry('/proc', 'proc', 'proc', ['rw']),
  toMountEntry('/', 'ext4', '/dev/vda', ['rw']),
  toMountEntry('/sys/fs/cgroup', 'cgroup2', 'cgroup2', ['rw']),
  toMountEntry('/dev/shm', 'tmpfs', 'tmpfs', ['rw']),
  toMountEntry('/tmp', 'tmpfs', 'tmpfs', ['rw']),
  toMountEntry('/mnt/nas', 'nfs', 'nas:/export', ['vers=3', 'hard']),
];

describe('mount view', () => {
  it('tells system mounts from data mounts', () => {
    expect(mounts.filter(isSystemMount).map((m) => m.mountPoint)).toEqual(['/proc', '/sys/fs/cgroup', '/dev/shm']);
  });

  it('lists NFS first and hides system mounts unless asked, keeping their count', () => {
    const hidden = mountView(mounts, false);
    expect(hidden.rows.map((m) => m.mountPoint)).toEqual(['/mnt/nas', '/', '/tmp']);
    expect(hidden).toMatchObject({ total: 6, nfs: 1, system: 3, hiddenSystem: 3 });
    const all = mountView(mounts, true);
    expect(all.rows.map((m) => m.mountPoint)).toEqual(['/mnt/nas', '/proc', '/', '/sys/fs/cgroup', '/dev/shm', '/tmp']);
    expect(all).toMatchObject({ system: 3, hiddenSystem: 0 });
  });

  it('shows the same mount command the agent recommends', () => {
    expect(RECOMMENDED_MOUNT_COMMAND).toBe(recommendedMountCommand('NAS', '/export', '/mnt/nas'));
  });
});
