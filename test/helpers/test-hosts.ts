/**
 * Test lab: real Linux "hosts" for integration and e2e tests. Each host is a network namespace on a
 * bridge (198.18.<slot>.0/24, the workstation is .1) running the system's OpenSSH server in its own
 * mount namespace, with its own host key, its own /root (so its own ~/.ferry) and the test's bind
 * mounts (a shared "NAS" directory at the same path on every host). A jump host also sits on a
 * second bridge (198.19.<slot>.0/24, no address and an "unreachable" route in the root namespace),
 * where private hosts live: the workstation reaches them only through the jump host.
 *
 * Network rule: the lab only ever uses addresses in 198.18.0.0/15 and loopback; no host has a
 * default route. `destroy()` removes everything; a crashed run's leftovers are removed by the next
 * lab that takes the same slot. Needs root (ip netns, mount).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintOf, generateKey, type KeyPair } from './test-hosts/keys.ts';
import { ip, mustRun, runCommand, type RunResult } from './test-hosts/run.ts';
import { acquireSlot, cleanupSlot, holdsSlot, killNamespaceProcesses, labDirPrefix, reapStaleSlots, releaseSlot, type SlotNames } from './test-hosts/slots.ts';
import { startSshd, stopSshd, type BindMount, type RunningSshd, type SshdHost } from './test-hosts/sshd.ts';

export type { BindMount } from './test-hosts/sshd.ts';

export const LAB_PASSWORD_USER = 'ferrytest';
export const LAB_PASSWORD = 'ferry-lab-Pa55word';
export const LAB_KEY_PASSPHRASE = 'ferry lab passphrase';

export interface LabHostSpec {
  name: string;
  binds?: BindMount[];
}

export interface LabOptions {
  hosts?: LabHostSpec[];
  jump?: { name: string; binds?: BindMount[]; privateHosts: LabHostSpec[] };
}

export interface LabHost {
  name: string;
  /** The address to connect to: public hosts and the jump host from the workstation, private hosts from the jump host. */
  address: string;
  /** The jump host's address on the private bridge (only for the jump host). */
  privateAddress?: string;
  port: number;
  /** "public" (on the workstation's bridge), "jump", or "private" (behind the jump host). */
  kind: 'public' | 'jump' | 'private';
  namespace: string;
  hostKeyType: string;
  /** "SHA256:…" of the current host key. */
  hostKeyFingerprint: string;
  /** The host's /root on the real filesystem. */
  rootDir: string;
  /** sshd's pid (changes on restart). */
  pid(): number;
  /** sshd's log so far. */
  log(): string;
  /** Runs `sh -c cmd` inside the host's network and mount namespaces (as root). */
  exec(cmd: string): Promise<RunResult>;
}

export interface TestLab {
  slot: number;
  dir: string;
  hosts: Record<string, LabHost>;
  /** `host(name)` is `hosts[name]` that throws on a wrong name. */
  host(name: string): LabHost;
  clientKey: { path: string; passphraseProtectedPath: string; passphrase: string; unauthorizedPath: string; fingerprint: string };
  password: string;
  passwordUser: string;
  /** known_hosts line for the host ("addr ssh-ed25519 AAAA…"). */
  knownHostsLine(name: string): string;
  restartSshd(name: string, options?: { newHostKey?: boolean }): Promise<void>;
  /** Drops the host's SSH connections: "kill" ends them (the client sees EOF), "link-down" cuts the wire for `durationMs` (silence). */
  dropConnections(name: string, options?: { how?: 'kill' | 'link-down'; durationMs?: number }): Promise<void>;
  /** Limits the bandwidth from the workstation (and other hosts) to this host, like a WAN link; null removes the limit. */
  shapeLink(name: string, limit: { rateMbit: number } | null): Promise<void>;
  destroy(): Promise<void>;
}

interface HostState {
  spec: LabHostSpec;
  kind: LabHost['kind'];
  ns: string;
  dir: string;
  rootDir: string;
  address: string;
  privateAddress?: string;
  listen: string[];
  rootVeths: string[];
  hostKey: KeyPair;
  sshd?: RunningSshd;
}

let passwordUserReady: Promise<void> | null = null;

/** Creates the password test user once per process (idempotent across processes). */
function ensurePasswordUser(): Promise<void> {
  passwordUserReady ??= (async () => {
    const exists = await runCommand('id', ['-u', LAB_PASSWORD_USER]);
    if (exists.code !== 0) {
      const add = await runCommand('useradd', ['-m', '-s', '/bin/sh', LAB_PASSWORD_USER]);
      // Another process may have created it meanwhile (exit 9: user exists).
      if (add.code !== 0 && add.code !== 9) throw new Error(`test lab: useradd failed: ${add.stderr}`);
    }
    await mustRun('chpasswd', [], { input: `${LAB_PASSWORD_USER}:${LAB_PASSWORD}\n` });
  })();
  return passwordUserReady;
}

function validateName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(name)) throw new Error(`test lab: host name "${name}" must be 1-16 of a-z, 0-9, "-"`);
}

export async function createTestLab(options: LabOptions): Promise<TestLab> {
  const labId = randomBytes(4).toString('hex');
  await reapStaleSlots();
  const names = await acquireSlot(labId);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${labDirPrefix(names.slot)}${labId}-`));
  const states = new Map<string, HostState>();
  let destroyed = false;

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...states.values()].map(async (s) => (s.sshd ? stopSshd(s.sshd) : undefined)));
    // Only a lab that still holds its slot may remove everything named after it.
    if (await holdsSlot(names, labId)) {
      await Promise.all([...states.values()].map((s) => killNamespaceProcesses(s.ns)));
      await cleanupSlot(names);
      await releaseSlot(names, labId);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await buildLab(names, dir, options, states);
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
  const clientKey = path.join(dir, 'client_ed25519');
  const passphraseKey = path.join(dir, 'client_passphrase_ed25519');
  const unauthorizedKey = path.join(dir, 'client_unauthorized_ed25519');
  const clientPub = (await fs.readFile(`${clientKey}.pub`, 'utf8')).trim().split(/\s+/)[1] ?? '';

  const state = (name: string): HostState => {
    const s = states.get(name);
    if (!s) throw new Error(`test lab: no host "${name}" (hosts: ${[...states.keys()].join(', ')})`);
    return s;
  };
  const sshdOf = (s: HostState): RunningSshd => {
    if (!s.sshd) throw new Error(`test lab: sshd of ${s.spec.name} is not running`);
    return s.sshd;
  };

  const hosts: Record<string, LabHost> = {};
  for (const s of states.values()) {
    const host: LabHost = {
      name: s.spec.name,
      address: s.address,
      port: 22,
      kind: s.kind,
      namespace: s.ns,
      get hostKeyType() {
        return s.hostKey.type;
      },
      get hostKeyFingerprint() {
        return s.hostKey.fingerprint;
      },
      rootDir: s.rootDir,
      pid: () => sshdOf(s).pid,
      log: () => s.sshd?.log() ?? '',
      exec: (cmd) => runCommand('nsenter', ['-t', String(sshdOf(s).pid), '-n', '-m', 'sh', '-c', cmd]),
    };
    if (s.privateAddress) host.privateAddress = s.privateAddress;
    hosts[s.spec.name] = host;
  }

  return {
    slot: names.slot,
    dir,
    hosts,
    host: (name) => {
      const h = hosts[name];
      if (!h) throw new Error(`test lab: no host "${name}" (hosts: ${Object.keys(hosts).join(', ')})`);
      return h;
    },
    clientKey: {
      path: clientKey,
      passphraseProtectedPath: passphraseKey,
      passphrase: LAB_KEY_PASSPHRASE,
      unauthorizedPath: unauthorizedKey,
      fingerprint: fingerprintOf(clientPub),
    },
    password: LAB_PASSWORD,
    passwordUser: LAB_PASSWORD_USER,
    knownHostsLine: (name) => {
      const s = state(name);
      return `${s.address} ${s.hostKey.type} ${s.hostKey.blob}`;
    },
    restartSshd: async (name, opts = {}) => {
      const s = state(name);
      if (s.sshd) await stopSshd(s.sshd);
      s.sshd = undefined;
      if (opts.newHostKey) s.hostKey = await generateKey(path.join(s.dir, 'ssh_host_ed25519_key'), { comment: `ferry-lab-${name}` });
      s.sshd = await startSshd(sshdHost(s));
    },
    dropConnections: async (name, opts = {}) => {
      const s = state(name);
      if ((opts.how ?? 'kill') === 'kill') {
        await killDescendants(sshdOf(s).pid);
        return;
      }
      for (const veth of s.rootVeths) await ip('link', 'set', veth, 'down');
      await new Promise((r) => setTimeout(r, opts.durationMs ?? 1000));
      for (const veth of s.rootVeths) await ip('link', 'set', veth, 'up');
    },
    shapeLink: async (name, limit) => {
      const s = state(name);
      for (const veth of s.rootVeths) {
        await runCommand('tc', ['qdisc', 'del', 'dev', veth, 'root']);
        if (limit) await mustRun('tc', ['qdisc', 'add', 'dev', veth, 'root', 'tbf', 'rate', `${limit.rateMbit}mbit`, 'burst', '256kb', 'latency', '100ms']);
      }
    },
    destroy,
  };
}

function sshdHost(s: HostState): SshdHost {
  return { name: s.spec.name, ns: s.ns, dir: s.dir, rootDir: s.rootDir, listen: s.listen, binds: s.spec.binds ?? [] };
}

async function buildLab(names: SlotNames, dir: string, options: LabOptions, states: Map<string, HostState>): Promise<void> {
  const publicSpecs = options.hosts ?? [];
  const privateSpecs = options.jump?.privateHosts ?? [];
  const all = [...publicSpecs, ...(options.jump ? [{ name: options.jump.name, binds: options.jump.binds }] : []), ...privateSpecs];
  const seen = new Set<string>();
  for (const h of all) {
    validateName(h.name);
    if (seen.has(h.name)) throw new Error(`test lab: host name "${h.name}" is used twice`);
    seen.add(h.name);
  }
  if (all.length > 200) throw new Error('test lab: at most 200 hosts');

  const keysReady = (async () => {
    await Promise.all([
      generateKey(path.join(dir, 'client_ed25519')),
      generateKey(path.join(dir, 'client_passphrase_ed25519'), { passphrase: LAB_KEY_PASSPHRASE }),
      generateKey(path.join(dir, 'client_unauthorized_ed25519')),
    ]);
    return (await fs.readFile(path.join(dir, 'client_ed25519.pub'), 'utf8')) + (await fs.readFile(path.join(dir, 'client_passphrase_ed25519.pub'), 'utf8'));
  })();
  const userReady = ensurePasswordUser();

  await ip('link', 'add', names.bridge, 'type', 'bridge');
  await ip('addr', 'add', `${names.publicAddress(1)}/24`, 'dev', names.bridge);
  await ip('link', 'set', names.bridge, 'up');
  if (options.jump) {
    await ip('link', 'add', names.privateBridge, 'type', 'bridge');
    await ip('link', 'set', names.privateBridge, 'up');
    // The private subnet has no route from the workstation: fail fast, never leave through the default route.
    await ip('route', 'replace', 'unreachable', names.privateSubnet);
  }

  let publicN = 10;
  let privateN = 10;
  let index = 0;
  const plan = (spec: LabHostSpec, kind: HostState['kind']): HostState => {
    index += 1;
    const hostDir = path.join(dir, spec.name);
    const s: HostState = {
      spec,
      kind,
      ns: `${names.nsPrefix}${spec.name}`,
      dir: hostDir,
      rootDir: path.join(hostDir, 'root'),
      address: '',
      listen: [],
      rootVeths: [],
      hostKey: undefined as unknown as KeyPair,
    };
    const links: Array<{ veth: string; bridge: string; ifname: string; address: string }> = [];
    if (kind !== 'private') {
      const address = names.publicAddress(publicN++);
      links.push({ veth: names.veth(index), bridge: names.bridge, ifname: 'eth0', address });
      s.address = address;
    }
    if (kind !== 'public') {
      const address = kind === 'jump' ? names.privateAddress(1) : names.privateAddress(privateN++);
      links.push({ veth: names.privateVeth(index), bridge: names.privateBridge, ifname: kind === 'jump' ? 'eth1' : 'eth0', address });
      if (kind === 'jump') s.privateAddress = address;
      else s.address = address;
    }
    s.listen = links.map((l) => l.address);
    s.rootVeths = links.map((l) => l.veth);
    states.set(spec.name, s);
    pending.push(setUpHost(s, links));
    return s;
  };
  const pending: Array<Promise<void>> = [];

  const setUpHost = async (s: HostState, links: Array<{ veth: string; bridge: string; ifname: string; address: string }>): Promise<void> => {
    await fs.mkdir(path.join(s.rootDir, '.ssh'), { recursive: true, mode: 0o700 });
    await fs.chmod(s.dir, 0o700);
    await fs.chmod(s.rootDir, 0o700);
    const hostKeyDone = generateKey(path.join(s.dir, 'ssh_host_ed25519_key'), { comment: `ferry-lab-${s.spec.name}` }).then((k) => {
      s.hostKey = k;
    });
    await ip('netns', 'add', s.ns);
    await ip('-n', s.ns, 'link', 'set', 'lo', 'up');
    for (const link of links) {
      await ip('link', 'add', link.veth, 'type', 'veth', 'peer', 'name', link.ifname, 'netns', s.ns);
      await ip('link', 'set', link.veth, 'master', link.bridge);
      await ip('link', 'set', link.veth, 'up');
      await ip('-n', s.ns, 'addr', 'add', `${link.address}/24`, 'dev', link.ifname);
      await ip('-n', s.ns, 'link', 'set', link.ifname, 'up');
    }
    await mustRun('ip', ['netns', 'exec', s.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    const authorized = await keysReady;
    await fs.writeFile(path.join(s.rootDir, '.ssh', 'authorized_keys'), authorized, { mode: 0o600 });
    await Promise.all([hostKeyDone, userReady]);
    s.sshd = await startSshd(sshdHost(s));
  };

  for (const spec of publicSpecs) plan(spec, 'public');
  if (options.jump) {
    plan({ name: options.jump.name, binds: options.jump.binds ?? [] }, 'jump');
    for (const spec of privateSpecs) plan(spec, 'private');
  }
  const results = await Promise.allSettled(pending);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  await keysReady;
}

/**
 * SIGKILLs every descendant of `pid` (per-connection sshd processes and their sessions). Scans again
 * until none is left alive: under load a connection's processes may fork between a scan and the kill,
 * and a survivor would keep that SSH connection open.
 */
async function killDescendants(pid: number): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const victims = await liveDescendants(pid);
    if (victims.length === 0) return;
    for (const v of victims) {
      try {
        process.kill(v, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Descendants of `pid` that are not zombies (a killed process stays a zombie until it is reaped). */
async function liveDescendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the ")" that ends the command name: state, ppid, …
    const [state, ppidText] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(ppidText);
    if (!Number.isInteger(ppid) || state === 'Z') continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}
