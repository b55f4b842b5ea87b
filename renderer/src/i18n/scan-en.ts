/**
 * English messages of the Task step's source scan (counts, histogram, depth, huge directories,
 * warnings, estimate): the `scan` section of the catalogue, in its own file. Its type is the
 * shape scan-zh-CN.ts matches. Functions take values already formatted for the locale.
 */
import type { ScanState, ScanWarningCode } from '../../../electron/contract/console.ts';

export const scanEn = {
  action: 'Scan source',
  actionFor: (task: string) => `Scan the source of task ${task}`,
  again: 'Scan again',
  show: 'Show scan',
  title: (task: string) => `Source scan of ${task}`,
  where: (directory: string, host: string) => `${directory} on ${host}`,
  whereRunning: (directory: string) => `${directory}, on the first reachable source host`,
  emptyTitle: 'Not scanned yet',
  emptyBody: 'A scan lists the source tree on one source host (read-only): entries, sizes, depth and very large directories, with what they mean for the migration and an estimate of its duration.',
  running: 'Scanning…',
  runningBody: 'Ferry installs its agent on the source host if needed, then lists the whole tree. Large trees take a while over NFS; you can leave this page.',
  failed: 'The scan did not finish.',
  goToHosts: 'Open Hosts',
  states: { running: 'Running', done: 'Done', failed: 'Failed' } satisfies Record<ScanState, string>,
  scannedAt: (when: string, seconds: string) => `Scanned ${when}, in ${seconds} s`,
  partialNote: 'Stopped at the time limit: these figures cover part of the tree.',
  figures: {
    entries: 'Entries',
    bytes: 'Data in files',
    files: 'Files',
    dirs: 'Directories',
    symlinks: 'Symbolic links',
    depth: 'Deepest level',
    hardLinked: 'Hard-linked files',
    unreadable: 'Unreadable',
  },
  allocated: (bytes: string) => `${bytes} allocated`,
  histogramTitle: 'File sizes',
  histogram: { size: 'Size', files: 'Files', bytes: 'Data' },
  bucketEmpty: 'Empty (0 B)',
  bucketBelow: (limit: string) => `< ${limit}`,
  bucketAtLeast: (limit: string) => `≥ ${limit}`,
  hugeTitle: (limit: string) => `Directories over ${limit} entries`,
  hugeEmpty: (limit: string) => `No directory holds more than ${limit} entries.`,
  hugeMore: (n: string) => `and ${n} more`,
  hugeEntries: (n: string) => `${n} entries`,
  warningsTitle: 'Warnings',
  noWarnings: 'Nothing in this tree needs special care.',
  warnings: {
    'huge-directory': (path: string, n: string) =>
      path === ''
        ? `${n} more directories are this large.`
        : `“${path}” holds ${n} entries. It lists slowly over NFS (one long directory read); Ferry splits it into batches so copying starts while it is listed, but expect it to dominate the listing time.`,
    'deep-nesting': (levels: string) => `The tree is ${levels} levels deep. Every level is one more NFS lookup on each side, and paths this long come near the 4,096-byte limit, beyond which entries cannot be copied.`,
    'latency-bound': (dirs: string) => `${dirs} directories hold very few files each. Each directory costs a few NFS round trips whatever it holds, so this tree is bound by latency, not bandwidth: more instances help, faster links do not.`,
    unreadable: (n: string) => `${n} entries could not be read. They will not be copied and are reported: run the agents as a user that can read everything (root, no_root_squash).`,
    'special-files': (n: string) => `${n} special files (FIFOs, sockets, devices) are not copied; the report lists them.`,
    partial: (seconds: string) => `The scan stopped after ${seconds} s, before the end of the tree: every figure and the estimate are lower bounds.`,
  } satisfies Record<ScanWarningCode, (a: string, b: string) => string>,
  estimateTitle: 'Estimate',
  estimate: (duration: string) => `About ${duration}`,
  estimateAtLeast: (duration: string) => `At least ${duration}`,
  underMinute: 'under a minute',
  estimateUnderMinute: 'Under a minute',
  estimateWith: (instances: string, count: number, gbps: string) => `with ${instances} ${count === 1 ? 'instance' : 'instances'} at ${gbps} Gbit/s each (the smaller side of the task: sources or destinations)`,
  boundBytes: 'Bound by the data size: bandwidth decides.',
  boundEntries: 'Bound by the number of entries: the per-file cost decides, not bandwidth.',
  bytesBound: (duration: string) => `Data ÷ bandwidth: ${duration}`,
  entriesBound: (duration: string, rate: string) => `Entries ÷ ${rate} entries/s per instance: ${duration}`,
  planNote: 'The speed of one instance comes from the Plan step.',
};
