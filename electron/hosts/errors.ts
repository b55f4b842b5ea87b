/**
 * AgentError: failures of agent deployment and lifecycle on a host, each with a stable code and a
 * message that says what to do. SSH failures underneath stay SshErrors (electron/ssh/errors.ts).
 */

export type AgentErrorCode =
  | 'unsupported-arch'
  | 'bad-version'
  | 'local-file-missing'
  | 'deploy-failed'
  | 'agent-not-installed'
  | 'agent-start-failed'
  | 'agent-start-timeout'
  | 'agent-stop-failed';

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    /** Last lines of the agent's log, when the agent itself failed. */
    readonly logTail?: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}
