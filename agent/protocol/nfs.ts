/**
 * Ferry's recommended NFS v3 mount options and the mount command built from them. Pure; shared
 * by the agent's mount checker, the controller (which runs the command over SSH) and, through
 * the console contract, the renderer (which shows it).
 */

export const RECOMMENDED_NFS_OPTIONS = ['vers=3', 'hard', 'timeo=600', 'retrans=2', 'noresvport', 'rsize=1048576', 'wsize=1048576'] as const;
export const RECOMMENDED_IO_SIZE = 1048576;
export const MIN_TIMEO_DECISECONDS = 150;
export const MIN_RETRANS = 2;

/** The mount command Ferry recommends, for display and for running over SSH. */
export function recommendedMountCommand(server: string, exportPath: string, mountPoint: string): string {
  return `mount -t nfs -o ${RECOMMENDED_NFS_OPTIONS.join(',')} ${server}:${exportPath} ${mountPoint}`;
}
