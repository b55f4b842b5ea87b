/**
 * English messages: the reference catalogue. Its type is the shape every other locale must
 * match (same keys, same function signatures), so a missing translation fails type-checking.
 * Functions take values already formatted for the locale.
 */
/** "1 host" / "3 hosts": English needs the count itself to choose the form. */
const plural = (count: number, n: string, one: string, other: string) => `${n} ${count === 1 ? one : other}`;

export const en = {
  app: {
    name: 'Ferry',
    tagline: 'NAS migration console',
    version: (v: string) => `v${v}`,
    skipToContent: 'Skip to content',
  },
  nav: {
    label: 'Guided migration',
    steps: {
      plan: 'Plan',
      hosts: 'Hosts',
      mounts: 'Mounts',
      tunnels: 'Tunnels',
      addresses: 'Addresses',
      tasks: 'Tasks',
      reports: 'Reports',
    },
    hints: {
      plan: 'Scope, schedule and cut-over',
      hosts: 'Machines and prerequisites',
      mounts: 'NFS sources and targets',
      tunnels: 'Links between sites',
      addresses: 'Networks and routes',
      tasks: 'Copy, verify, resume',
      reports: 'Evidence and sign-off',
    },
    soon: 'Soon',
  },
  header: {
    language: 'Language',
    theme: 'Theme',
    themes: { system: 'System', light: 'Light', dark: 'Dark' },
    dataDir: 'Data directory',
  },
  connection: {
    online: 'Connected',
    reconnecting: 'Reconnecting…',
    banner: 'Lost the connection to Ferry. Reconnecting… Changes made meanwhile will appear when it is back.',
    web: 'Web console',
    electron: 'Desktop',
  },
  comingSoon: {
    title: (step: string) => `${step} is coming in a later release`,
    body: 'This step of the guided migration is not available in this version of Ferry yet. Start with Hosts: check this computer and add the hosts that will move the data.',
    goHosts: 'Go to Hosts',
  },
  common: {
    refresh: 'Refresh',
    refreshing: 'Refreshing…',
    loading: 'Loading…',
    retry: 'Try again',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'Select the text and copy it',
    remove: 'Remove',
    cancel: 'Cancel',
    yes: 'Yes',
    no: 'No',
    pass: 'Pass',
    warn: 'Warning',
  },
  hosts: {
    title: 'Hosts',
    subtitle: 'Check the computer running Ferry, then define the hosts that will move the data.',
    thisComputer: 'This computer',
    checkedAt: (when: string) => `Checked ${when}`,
    loadFailed: 'Could not read the facts of this computer.',
    facts: {
      os: 'Operating system',
      hostname: 'Host name',
      arch: 'Architecture',
      cpu: 'CPU',
      cores: (n: string) => `${n} cores`,
      memory: 'Memory',
      disk: 'Data directory disk',
      diskValue: (free: string, total: string) => `${free} free of ${total}`,
      root: 'Running as root',
      rootNo: 'No',
      rootYes: 'Yes',
    },
    prereq: {
      title: 'Prerequisites',
      summaryOk: 'This computer meets Ferry’s prerequisites.',
      summaryWarn: (count: number, n: string) =>
        `${count === 1 ? 'One prerequisite is' : `${n} prerequisites are`} not met. Ferry still runs, but slower or with less headroom than planned.`,
      names: { 'cpu-cores': 'CPU cores', memory: 'Memory', 'disk-free': 'Free disk' },
      'cpu-cores': (ok: boolean, found: string, required: string) =>
        ok ? `${found} cores (at least ${required} needed).` : `Only ${found} cores; Ferry needs at least ${required} per host for its expected speed. Use a larger machine or plan more hosts.`,
      memory: (ok: boolean, found: string, required: string) =>
        ok ? `${found} memory (at least ${required} needed).` : `Only ${found} memory; Ferry needs at least ${required} per host.`,
      'disk-free': (ok: boolean, found: string, required: string) =>
        ok ? `${found} free (at least ${required} needed).` : `Only ${found} free where Ferry keeps its journal; free at least ${required}.`,
    },
  },
  mounts: {
    title: 'Mounts',
    summary: (total: number, t: string, nfs: string) => `${plural(total, t, 'mount', 'mounts')}, ${nfs} NFS`,
    showSystem: 'Show system mounts',
    systemShown: (count: number, n: string) => `${plural(count, n, 'system mount', 'system mounts')} shown`,
    systemHidden: (count: number, n: string) => `${plural(count, n, 'system mount', 'system mounts')} hidden (proc, sysfs, cgroup, …)`,
    unreadable: 'This computer does not report its mounts (not Linux, or /proc is not readable). Mount checks run on Linux hosts.',
    noNfs: 'No NFS mount on this computer. That is fine: the migration hosts mount the NAS exports, not necessarily this computer.',
    columns: { mountPoint: 'Mount point', type: 'Type', source: 'Source', options: 'Options', status: 'Check' },
    recommended: 'Recommended options',
    warningsCount: (count: number, n: string) => `${n} to fix`,
    optionsMore: (n: string) => `+${n} more`,
    optionsLess: 'Show fewer',
    warnings: {
      'nfs-version': (found: string | null, recommended: string) =>
        `Mounted with NFS version ${found ?? 'unknown'}. Remount with vers=${recommended}, the version Ferry’s migrations are tested with.`,
      'nfs-soft': () => 'Mounted “soft”: a slow NAS can make reads and writes fail silently and corrupt data. Remount with “hard”.',
      'nfs-not-hard': () => 'The mount does not say “hard”. Remount with “hard” so I/O waits for the NAS instead of failing.',
      'nfs-resvport': () => 'Without “noresvport”, reconnecting after a network hiccup can fail for lack of reserved ports. Remount with “noresvport”.',
      'nfs-rsize': (found: string | null, recommended: string) =>
        `Read size rsize=${found ?? 'default'} limits throughput. Remount with rsize=${recommended} (1 MiB).`,
      'nfs-wsize': (found: string | null, recommended: string) =>
        `Write size wsize=${found ?? 'default'} limits throughput. Remount with wsize=${recommended} (1 MiB).`,
      'nfs-timeo': (found: string | null, recommended: string) =>
        `timeo=${found ?? 'default'} retries too early under load. Use timeo=${recommended} (60 seconds).`,
      'nfs-retrans': (found: string | null, recommended: string) => `retrans=${found ?? 'default'} gives up too quickly. Use retrans=${recommended}.`,
    },
  },
  inventory: {
    title: 'Host inventory',
    count: (count: number, n: string) => plural(count, n, 'host', 'hosts'),
    emptyTitle: 'No remote hosts yet',
    emptyBody:
      'Remote hosts come next: Ferry will connect to them over SSH, check their prerequisites and mounts, and run the migration agents there. Add the hosts now; on each one, mount the NAS exports with the recommended options:',
    commandLabel: 'Recommended NFS mount command',
    columns: { name: 'Name', address: 'Address', user: 'User', auth: 'Authentication', added: 'Added', actions: 'Actions' },
    removeLabel: (name: string) => `Remove host ${name}`,
    confirmRemove: (name: string) => `Remove ${name} from the inventory?`,
    confirm: 'Confirm removal',
    loadFailed: 'Could not load the host inventory.',
  },
  addHost: {
    title: 'Add a host',
    name: 'Name',
    namePlaceholder: 'ecs-migrate-01',
    address: 'Address',
    addressPlaceholder: '10.0.0.21 or host.example.com',
    port: 'SSH port',
    user: 'User',
    auth: 'Authentication',
    authKinds: { agent: 'SSH agent', key: 'Private key file', password: 'Password (asked when connecting)' },
    keyFile: 'Private key file',
    keyFilePlaceholder: '~/.ssh/id_ed25519',
    submit: 'Add host',
    submitting: 'Adding…',
    added: (name: string) => `Added ${name}.`,
    fixFields: 'Check the highlighted fields.',
    secretsNote: 'Ferry never stores passwords or passphrases.',
  },
  errors: {
    'bad-json': 'Ferry could not read the request. Reload the console.',
    unauthorized: 'The access token is missing or wrong. Open the console with the full URL Ferry printed.',
    'forbidden-origin': 'Ferry refused a request from this page. Open the console at the URL Ferry printed.',
    'unknown-call': 'Ferry does not know this request; the console and Ferry may be different versions. Reload.',
    'invalid-request': 'Some values are not valid.',
    'not-found': 'It no longer exists. The list was reloaded.',
    conflict: 'This conflicts with an existing entry.',
    'version-mismatch': 'The console and Ferry are different versions. Reload the console.',
    internal: 'Ferry hit an unexpected error.',
    unreachable: 'Ferry is not reachable. Is it still running?',
  },
  fatal: {
    title: 'The console cannot start',
    protocol: (console: string, ferry: string) => `This console (protocol ${console}) does not match Ferry (protocol ${ferry}). Restart Ferry / reload.`,
    noToken: 'This page was opened without its access token. Open the console with the full URL Ferry printed (it ends in ?token=…).',
    unauthorized: 'The access token is not valid for this Ferry (it may have been restarted). Open the console with the new URL Ferry printed.',
    unreachable: (detail: string) => `Ferry is not reachable (${detail}). Start it again and open the URL it prints.`,
    reload: 'Reload',
  },
};

export type Messages = typeof en;
