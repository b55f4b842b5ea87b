/**
 * Opens SSH sessions to a plan's hosts: the plan host's address, port and user, its jump host (one
 * level, connected here and owned by the session), the operator's secrets asked for through the
 * caller's `auth` callback at connect time, and host keys checked against Ferry's known_hosts. An
 * unknown key is refused (with its fingerprint and how to accept it) unless the caller passes that
 * exact fingerprint for that host name; a changed key is always refused (connect.ts says why).
 * Holds no secrets itself and never accepts a key on its own.
 */
import type { PlanHost } from '../contract/plan.ts';
import type { SshAuth } from '../ssh/auth.ts';
import { connect, type ConnectOptions, type JumpSpec } from '../ssh/connect.ts';
import { SshError } from '../ssh/errors.ts';
import { HostKeyStore, type HostKeyStoreOptions } from '../ssh/host-key-store.ts';
import type { SshSession } from '../ssh/session.ts';

/** Gives the credentials for a host when Ferry connects to it (may prompt; never stored by Ferry). */
export type HostAuthProvider = (host: PlanHost) => Promise<SshAuth>;

export interface HostConnectorOptions {
  hosts: readonly PlanHost[];
  auth: HostAuthProvider;
  hostKeys: HostKeyStore | HostKeyStoreOptions;
  /** Host name → "SHA256:…" the operator accepted for that host's unknown key. */
  acceptFingerprints?: Readonly<Record<string, string>>;
  connectTimeoutMs?: number;
  /** SSH keepalives (a silent link is declared lost after interval × countMax). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

/** How the operator accepts an unknown key from the command line (appended to host-key-unknown messages). */
export function acceptHint(hostName: string, fingerprint: string): string {
  return `To trust it, run again with --accept-host-key ${hostName}=${fingerprint}; Ferry then remembers it in its known_hosts.`;
}

export class HostConnector {
  readonly store: HostKeyStore;
  private readonly byName: Map<string, PlanHost>;
  private readonly opts: HostConnectorOptions;

  constructor(opts: HostConnectorOptions) {
    this.opts = opts;
    this.store = opts.hostKeys instanceof HostKeyStore ? opts.hostKeys : new HostKeyStore(opts.hostKeys);
    this.byName = new Map(opts.hosts.map((h) => [h.name, h]));
  }

  host(name: string): PlanHost {
    const h = this.byName.get(name);
    if (!h) throw new SshError('host-unreachable', `The plan has no host "${name}".`);
    return h;
  }

  /** A new session to the host (through its jump host when it has one). Throws SshError. */
  async connect(host: PlanHost): Promise<SshSession> {
    const options: ConnectOptions = { auth: await this.opts.auth(host), hostKeys: this.store };
    const accepted = this.opts.acceptFingerprints?.[host.name];
    if (accepted !== undefined) options.acceptFingerprint = accepted;
    if (this.opts.connectTimeoutMs !== undefined) options.connectTimeoutMs = this.opts.connectTimeoutMs;
    if (this.opts.keepaliveIntervalMs !== undefined) options.keepaliveIntervalMs = this.opts.keepaliveIntervalMs;
    if (this.opts.keepaliveCountMax !== undefined) options.keepaliveCountMax = this.opts.keepaliveCountMax;
    if (host.jumpHost !== null) {
      const jump = this.host(host.jumpHost);
      if (jump.jumpHost !== null) {
        throw new SshError('jump-failed', `Host "${host.name}" goes through "${jump.name}", which itself goes through "${jump.jumpHost}". Ferry supports one jump host per host: reach "${jump.name}" directly.`);
      }
      const spec: JumpSpec = { target: { host: jump.address, port: jump.port, user: jump.user, label: jump.name }, auth: await this.opts.auth(jump) };
      const jumpAccepted = this.opts.acceptFingerprints?.[jump.name];
      if (jumpAccepted !== undefined) spec.acceptFingerprint = jumpAccepted;
      options.jump = spec;
    }
    try {
      return await connect({ host: host.address, port: host.port, user: host.user, label: host.name }, options);
    } catch (err) {
      throw withAcceptHint(err, host);
    }
  }
}

/** Adds the command-line way to accept an unknown host key to the error's message. */
function withAcceptHint(err: unknown, host: PlanHost): unknown {
  if (!(err instanceof SshError) || err.code !== 'host-key-unknown' || !err.details.hostKey) return err;
  const name = err.details.stage === 'jump' ? (host.jumpHost ?? host.name) : host.name;
  return new SshError(err.code, `${err.message} ${acceptHint(name, err.details.hostKey.fingerprint)}`, err.details);
}
