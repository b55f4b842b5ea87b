/**
 * The agent's control API: what the app (or the CLI) may ask an agent over its 127.0.0.1 control
 * port. Newline-delimited JSON; the first line from the client is a Hello with the protocol version
 * and the agent's token (from DIR/agent.json), answered by a Welcome or an error and a close.
 * Then requests { id, method, params } and responses { id, ok, result | error }.
 * Pure schemas: both the agent (agent/control) and the app (electron/engine-host) import this file.
 */
import { z } from 'zod';
import { TaskSpec, TaskStatus } from './task.ts';
import { ReportSummary } from './report.ts';

/** 2: task.wait (an app that watches with it must not meet an agent without it). */
export const CONTROL_PROTOCOL_VERSION = 2;
/** Longest control line accepted (a task spec with many filters fits easily). */
export const MAX_CONTROL_LINE = 1024 * 1024;

/** The line an agent prints on stdout once it listens, for whoever launched it. */
export const ReadyLine = z.object({
  ready: z.literal(true),
  controlPort: z.number().int(),
  dataPort: z.number().int(),
  fingerprint: z.string(),
  version: z.string(),
  agentId: z.string(),
  pid: z.number().int(),
});
export type ReadyLine = z.infer<typeof ReadyLine>;

export const ControlHello = z.object({ type: z.literal('hello'), protocolVersion: z.number().int(), token: z.string() });
export type ControlHello = z.infer<typeof ControlHello>;
export const ControlWelcome = z.object({ type: z.literal('welcome'), protocolVersion: z.number().int(), version: z.string(), agentId: z.string() });

export const ControlErrorCode = z.enum([
  'protocol-mismatch',
  'bad-token',
  'bad-request',
  'unknown-method',
  'unknown-task',
  'task-exists',
  'invalid-state',
  'internal',
]);
export type ControlErrorCode = z.infer<typeof ControlErrorCode>;
export const ControlError = z.object({ code: ControlErrorCode, message: z.string() });
export type ControlError = z.infer<typeof ControlError>;

export const ControlRequest = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export const ControlResponse = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: ControlError }),
]);
export type ControlResponse = z.infer<typeof ControlResponse>;

const Endpoint = z.object({ host: z.string(), port: z.number().int().min(1).max(65535), fingerprint: z.string() });
const TaskRef = z.object({ taskId: z.string() });
/** Longest task.wait (a watcher should still hear from the agent now and then). */
export const MAX_TASK_WAIT_MS = 10_000;

export const AgentInfo = z.object({
  agentId: z.string(),
  version: z.string(),
  protocolVersion: z.number(),
  dataPort: z.number(),
  fingerprint: z.string(),
  pid: z.number(),
  isRoot: z.boolean(),
  /** Peak resident set size in bytes so far. */
  maxRss: z.number(),
  nativeAddon: z.boolean(),
  tasks: z.array(z.object({ taskId: z.string(), role: z.enum(['coordinator', 'source', 'destination']) })),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** Every control method: params and result schemas. The server's handler table must cover them all. */
export const controlMethods = {
  'agent.info': { params: z.object({}).optional(), result: AgentInfo },
  /** Stops the agent process after answering (tasks resume from their journals on the next start). */
  'agent.shutdown': { params: z.object({}).optional(), result: z.object({}) },
  /**
   * Become the coordinator of a task. Idempotent: the same spec again returns the existing task
   * (resumed from its journal); a different spec under the same id is 'task-exists'.
   */
  'task.create': {
    params: z.object({
      spec: TaskSpec,
      token: z.string().min(16).optional(),
      /** When the task with this id already finished, archive it and start a new run. */
      restartIfDone: z.boolean().optional(),
    }),
    result: z.object({ taskId: z.string(), token: z.string(), coordinator: Endpoint, resumed: z.boolean(), finished: z.boolean() }),
  },
  /** Become a source or destination worker of a task run by a coordinator elsewhere. Idempotent. */
  'task.join': {
    params: z.object({
      taskId: z.string(),
      role: z.enum(['source', 'destination']),
      /** This host's path of the task's root (the NAS mount). */
      root: z.string(),
      coordinator: Endpoint,
      token: z.string(),
      /** Destinations: the address sources should dial (default 127.0.0.1 and this agent's data port). */
      advertiseHost: z.string().optional(),
    }),
    result: z.object({ ok: z.literal(true) }),
  },
  'task.leave': { params: TaskRef, result: z.object({ ok: z.literal(true) }) },
  'task.status': { params: TaskRef, result: TaskStatus },
  /**
   * The status once the task is final or waitMs has passed, whichever comes first: a watcher polls
   * with it and learns of the end at once, not up to a poll interval later.
   */
  'task.wait': { params: TaskRef.extend({ waitMs: z.number().int().min(0).max(MAX_TASK_WAIT_MS) }), result: TaskStatus },
  'task.pause': { params: TaskRef, result: TaskStatus },
  'task.resume': { params: TaskRef, result: TaskStatus },
  'task.cancel': { params: TaskRef, result: TaskStatus },
  /** Where the finished task's report is (on the coordinator's disk) and its summary. */
  'task.report': { params: TaskRef, result: z.object({ path: z.string(), summary: ReportSummary, passed: z.boolean() }) },
} as const;

export type ControlMethod = keyof typeof controlMethods;
export type ControlParams<M extends ControlMethod> = z.input<(typeof controlMethods)[M]['params']>;
export type ControlResult<M extends ControlMethod> = z.infer<(typeof controlMethods)[M]['result']>;
