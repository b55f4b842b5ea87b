/**
 * How a run reaches its hosts: the SSH credentials of each plan host from the console's secret
 * store (the inventory host of the same name), host keys checked against Ferry's known_hosts, and a
 * preflight that logs in to every host of the task once (through jump hosts) before anything is
 * deployed, so what the operator must answer (an unknown key, a password, a passphrase) comes back
 * as a HostFailure about the right host instead of a failed run. Never accepts a host key and
 * keeps a secret given with runs.start only once a login with it worked.
 */
import type { Host, HostFailure, HostSecret } from '../contract/console.ts';
import type { PlanHost } from '../contract/plan.ts';
import { HostConnector, type HostAuthProvider } from '../remote/host-connector.ts';
import type { RemoteTaskLayout } from '../remote/plan-task.ts';
import type { SshAuth } from '../ssh/auth.ts';
import { SshError } from '../ssh/errors.ts';
import type { HostKeyStore } from '../ssh/host-key-store.ts';
import { asJumpFailure, hostFailure, HostOpError, toHostFailure } from './host-failures.ts';
import type { SecretStore } from './secrets.ts';

export const PREFLIGHT_TIMEOUT_MS = 15_000;

export interface GivenSecret {
  hostId: string;
  secret: HostSecret;
}

type HostRef = Pick<Host, 'id' | 'name' | 'auth'>;

export class RunAccess {
  constructor(
    private readonly secrets: SecretStore,
    readonly keys: HostKeyStore,
    private readonly inventory: () => Promise<Host[]>,
  ) {}

  /** The inventory host of a plan host (by name); a host no longer in the inventory keeps its plan name as id. */
  private async refOf(host: PlanHost): Promise<HostRef> {
    return (await this.inventory()).find((h) => h.name === host.name) ?? { id: host.name, name: host.name, auth: host.auth };
  }

  /** Credentials at connect time; a password host without a password is a 'password-needed' failure. */
  authProvider(given?: GivenSecret): HostAuthProvider {
    return async (host: PlanHost): Promise<SshAuth> => {
      const ref = await this.refOf(host);
      const secret = given?.hostId === ref.id ? given.secret : undefined;
      switch (host.auth.kind) {
        case 'agent':
          return { kind: 'agent' };
        case 'key': {
          const passphrase = secret && 'passphrase' in secret ? secret.passphrase : await this.secrets.get(ref.id, 'passphrase');
          return passphrase ? { kind: 'key', keyFile: host.auth.keyFile, passphrase } : { kind: 'key', keyFile: host.auth.keyFile };
        }
        case 'password': {
          const password = secret && 'password' in secret ? secret.password : await this.secrets.get(ref.id, 'password');
          if (!password) {
            throw new HostOpError(hostFailure(ref, 'password-needed', `${host.name} logs in with a password. Enter the password for ${host.user}; Ferry keeps it in memory until it stops.`, { authMethod: 'password' }));
          }
          return { kind: 'password', password };
        }
      }
    };
  }

  /** The console's failure for an error of a connection to `host` (the jump host's when that hop failed). */
  async failureOf(err: unknown, host: PlanHost, plan: { hosts: readonly PlanHost[] }): Promise<HostFailure> {
    const target = await this.refOf(host);
    const cause = withoutCliHint(err);
    if (cause instanceof SshError && cause.details.stage === 'jump' && host.jumpHost !== null) {
      const jumpPlanHost = plan.hosts.find((h) => h.name === host.jumpHost);
      if (jumpPlanHost) return asJumpFailure(toHostFailure(cause, await this.refOf(jumpPlanHost)), target);
    }
    return toHostFailure(cause, target);
  }

  /**
   * Logs in to every host of the task once; null when all worked, else the first failure (in the
   * task's host order). A given secret is kept when no failure is about its host.
   */
  async preflight(plan: { hosts: readonly PlanHost[] }, layout: RemoteTaskLayout, given?: GivenSecret): Promise<HostFailure | null> {
    const connector = new HostConnector({ hosts: plan.hosts, auth: this.authProvider(given), hostKeys: this.keys, connectTimeoutMs: PREFLIGHT_TIMEOUT_MS });
    const outcomes = await Promise.all(
      layout.workers.map(async (w) => {
        try {
          const session = await connector.connect(w.host);
          await session.close().catch(() => undefined);
          return null;
        } catch (err) {
          return this.failureOf(err, w.host, plan);
        }
      }),
    );
    const failure = outcomes.find((f): f is HostFailure => f !== null) ?? null;
    if (given && !outcomes.some((f) => f?.hostId === given.hostId)) {
      if ('password' in given.secret) await this.secrets.set(given.hostId, 'password', given.secret.password);
      else await this.secrets.set(given.hostId, 'passphrase', given.secret.passphrase);
    }
    return failure;
  }
}

/** The runner's connector tells command-line users how to accept a key; the console has its own dialog. */
function withoutCliHint(err: unknown): unknown {
  if (!(err instanceof SshError) || err.code !== 'host-key-unknown') return err;
  const at = err.message.indexOf(' To trust it, run again with --accept-host-key');
  return at < 0 ? err : new SshError(err.code, err.message.slice(0, at), err.details);
}
