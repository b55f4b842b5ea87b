/**
 * The live side of one runRemoteTask() call, for a caller that shows it (the console's runs):
 * each host link's state, reconnect count and agent id, and the coordinator's pause / resume /
 * cancel for this task, sent through the run's own coordinator link (no second connection).
 * Owns nothing: the runner owns the links and closes them; after that, control calls reject.
 */
import type { TaskStatus } from '../../agent/protocol/task.ts';
import type { AgentLink, LinkState } from './agent-link.ts';
import type { RemoteTaskLayout } from './plan-task.ts';

export type RemoteControlMethod = 'task.pause' | 'task.resume' | 'task.cancel';

export interface RemoteLinkInfo {
  host: string;
  role: 'source' | 'destination';
  coordinator: boolean;
  state: LinkState;
  reconnects: number;
  /** The agent's id as last seen on this host (null before its first connection). */
  agentId: string | null;
}

export interface RemoteRunHandle {
  readonly taskId: string;
  links(): RemoteLinkInfo[];
  /** Sends the command to the coordinator; resolves with the task's status after it. */
  control(method: RemoteControlMethod): Promise<TaskStatus>;
}

export function remoteRunHandle(layout: RemoteTaskLayout, links: ReadonlyMap<string, AgentLink>): RemoteRunHandle {
  const taskId = layout.spec.taskId;
  return {
    taskId,
    links: () =>
      layout.workers.map((w) => {
        const link = links.get(w.host.name);
        return {
          host: w.host.name,
          role: w.role,
          coordinator: w.host.name === layout.coordinator.name,
          state: link?.state ?? 'closed',
          reconnects: link?.reconnects ?? 0,
          agentId: link?.agentId ?? null,
        };
      }),
    control: async (method) => {
      const coordinator = links.get(layout.coordinator.name);
      if (!coordinator) throw new Error(`The run of task ${taskId} has no link to its coordinator ${layout.coordinator.name}.`);
      return coordinator.call(method, { taskId });
    },
  };
}
