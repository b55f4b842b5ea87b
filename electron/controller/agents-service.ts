/**
 * The agent on each host, as the console drives it: status, deploy (install this Ferry's agent
 * version, labelled app version + hash of the files like every other deploy, uploading only what
 * changed, then start it; an older running version is replaced),
 * stop, restart, uninstall and the log tail. Runs every step through HostSessions (one connection
 * and one operation at a time per host) and records the agent state it saw in the host's status.
 * Deploys only the local build (dist/agent, dist/runtime, dist/native) and says which part is
 * missing; never removes the agent's own data on the host.
 */
import type { AgentState, DeploySummary } from '../contract/console.ts';
import { agentLogTail, agentStatus, startAgent, stopAgent, uninstallAgent, type AgentStatus } from '../hosts/agent-control.ts';
import { deployAgent } from '../hosts/deploy.ts';
import { nodeArch, probeOverSsh } from '../hosts/probe.ts';
import type { SshSession } from '../ssh/session.ts';
import { agentBuildVersion, isAppAgentVersion, locateAgentBuild } from './agent-build.ts';
import { hostFailure, HostOpError } from './host-failures.ts';
import type { HostSessions, OpResult } from './host-sessions.ts';
import type { Host, HostFacts, HostSecret, PresentedHostKey } from '../contract/console.ts';

/** How long a started agent has to print its ready line. */
export const AGENT_READY_TIMEOUT_MS = 30_000;

export class AgentsService {
  constructor(
    private readonly sessions: HostSessions,
    private readonly appVersion: string,
    private readonly distDir: string,
  ) {}

  /** hosts.test: connect, probe the facts, read the agent's state. */
  test(id: string, secret?: HostSecret): Promise<OpResult<{ facts: HostFacts; hostKey: PresentedHostKey; agent: AgentState | null }>> {
    return this.sessions.run(
      id,
      'testing',
      async ({ session }) => {
        const facts = await probeOverSsh(session);
        this.sessions.recordFacts(id, facts);
        const agent = await this.readState(session).catch(() => null);
        this.sessions.recordAgent(id, agent);
        return { facts, hostKey: { ...session.hostKey, knownAt: [] }, agent };
      },
      secret,
    );
  }

  status(id: string): Promise<OpResult<{ agent: AgentState }>> {
    return this.sessions.run(id, 'checking', async ({ session }) => ({ agent: await this.record(id, session) }));
  }

  deploy(id: string): Promise<OpResult<{ agent: AgentState; deploy: DeploySummary }>> {
    return this.sessions.run(id, 'deploying', async ({ host, session }) => {
      const build = locateAgentBuild(this.distDir);
      if (!build.files) {
        throw new HostOpError(hostFailure(host, 'runtime-missing', `This Ferry has no agent build to deploy (${build.distDir}/agent/agent.mjs is missing). Build it with "node build/build.mjs", then deploy again.`));
      }
      await this.checkArch(host, session, build.arches, build.distDir);
      const version = await agentBuildVersion(build, this.appVersion);
      const result = await deployAgent(session, {
        version,
        localFiles: build.files,
        onProgress: (p) => this.sessions.recordProgress(id, { step: p.step, file: p.file, bytes: p.bytes ?? null }),
      });
      this.sessions.recordProgress(id, { step: 'starting', file: 'agent/agent.mjs', bytes: null });
      const started = await startAgent(session, { version, restart: !result.alreadyInstalled, readyTimeoutMs: AGENT_READY_TIMEOUT_MS });
      const agent = await this.record(id, session);
      return {
        agent,
        deploy: {
          version: result.version,
          arch: result.arch,
          uploaded: result.uploaded,
          linked: result.linked,
          alreadyInstalled: result.alreadyInstalled,
          bytesSent: result.bytesSent,
          ms: result.ms,
          replacedVersion: started.replacedVersion ?? null,
        },
      };
    });
  }

  stop(id: string): Promise<OpResult<{ agent: AgentState }>> {
    return this.sessions.run(id, 'stopping', async ({ session }) => {
      await stopAgent(session);
      return { agent: await this.record(id, session) };
    });
  }

  restart(id: string): Promise<OpResult<{ agent: AgentState }>> {
    return this.sessions.run(id, 'restarting', async ({ host, session }) => {
      const status = await agentStatus(session);
      const wanted = await this.deployVersion();
      const version = status.installedVersions.includes(wanted) ? wanted : status.currentVersion;
      if (!version || !status.installedVersions.includes(version)) {
        throw new HostOpError(hostFailure(host, 'agent-not-installed', `No agent is installed on ${host.name}. Deploy it first.`));
      }
      await startAgent(session, { version, restart: true, readyTimeoutMs: AGENT_READY_TIMEOUT_MS });
      return { agent: await this.record(id, session) };
    });
  }

  uninstall(id: string): Promise<OpResult<{ agent: AgentState; removed: string[] }>> {
    return this.sessions.run(id, 'uninstalling', async ({ session }) => {
      const { removed } = await uninstallAgent(session);
      return { agent: await this.record(id, session), removed };
    });
  }

  logTail(id: string, lines: number): Promise<OpResult<{ text: string; lines: number }>> {
    return this.sessions.run(id, 'checking', async ({ session }) => {
      const text = await agentLogTail(session, lines);
      return { text, lines: text === '' ? 0 : text.replace(/\n$/, '').split('\n').length };
    });
  }

  /** Refuses early, with the build step to run, when this build has no runtime for the host. */
  private async checkArch(host: Host, session: SshSession, arches: string[], distDir: string): Promise<void> {
    const machine = (await session.exec('uname -m', { timeoutMs: 10_000 })).stdout.toString('utf8').trim();
    const arch = nodeArch(machine);
    if ((arch === 'x64' || arch === 'arm64') && !arches.includes(arch)) {
      throw new HostOpError(
        hostFailure(
          host,
          'runtime-missing',
          `${host.name} is a ${machine} (${arch}) machine, but this Ferry build has no agent runtime for ${arch} (looked in ${distDir}/runtime/linux-${arch}; it has: ${arches.join(', ') || 'none'}). Fetch it with "node build/fetch-runtime.mjs --all" and deploy again.`,
        ),
      );
    }
  }

  private async readState(session: SshSession): Promise<AgentState> {
    return toAgentState(await agentStatus(session), await this.deployVersion());
  }

  /** The label a deploy installs now (app version + hash of this build's files). */
  private deployVersion(): Promise<string> {
    return agentBuildVersion(locateAgentBuild(this.distDir), this.appVersion);
  }

  private async record(id: string, session: SshSession): Promise<AgentState> {
    const agent = await this.readState(session);
    this.sessions.recordAgent(id, agent);
    return agent;
  }
}

/**
 * The console's view of a host's agent. `appVersion` is the label a deploy installs now; when no
 * build is at hand it is the bare app version, and any label of that version counts as current.
 */
export function toAgentState(status: AgentStatus, appVersion: string): AgentState {
  const deployed = status.runningVersion ?? status.currentVersion ?? status.installedVersions[0] ?? null;
  const current = deployed !== null && (deployed === appVersion || (!appVersion.includes('+') && isAppAgentVersion(deployed, appVersion)));
  return {
    home: status.home,
    installedVersions: status.installedVersions,
    currentVersion: status.currentVersion,
    running: status.running,
    pid: status.pid,
    runningVersion: status.runningVersion,
    appVersion,
    upgradeAvailable: deployed !== null && !current,
    controlPort: status.ready?.controlPort ?? null,
    dataPort: status.ready?.dataPort ?? null,
    mode: status.running ? (status.systemd.active ? 'systemd' : 'nohup') : null,
    checkedAt: new Date().toISOString(),
  };
}
