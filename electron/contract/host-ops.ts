/**
 * Host operations over SSH as the console sees them: testing a connection, trusting a host key,
 * importing hosts from an OpenSSH config, and the agent's lifecycle on a host, plus the live
 * per-host status the controller pushes. Outcomes the operator can act on (unknown or changed host
 * key, refused login, unreachable host, a missing runtime) are results with stable codes, not call
 * errors, so the UI can branch on them. Never carries a secret back. Pure: schemas only.
 */
import { z } from 'zod';
import { HostFacts } from '../../agent/protocol/facts.ts';
import { HostAuth, PlanName } from './plan.ts';

/** Why a host operation did not succeed; stable codes the console translates and acts on. */
export const HostFailureCode = z.enum([
  /** Ferry has not seen this host key: show the fingerprint, let the operator verify and trust it. */
  'host-key-unknown',
  /** The host presents another key than the one recorded: refused, never accepted from the console. */
  'host-key-changed',
  'host-key-revoked',
  /** hosts.trustKey: the host presents another fingerprint than the one the operator accepted. */
  'fingerprint-mismatch',
  'auth-failed',
  /** Password login and no password in this session: ask for it. */
  'password-needed',
  /** The key file is encrypted and no passphrase in this session: ask for it. */
  'passphrase-needed',
  'passphrase-wrong',
  'key-file-unreadable',
  'agent-unavailable',
  'unreachable',
  'timeout',
  /** The jump host is not in the inventory (or is the host itself). */
  'jump-host-missing',
  'connection-lost',
  'probe-failed',
  'known-hosts-unusable',
  'protocol',
  /** Another operation on this host is still running. */
  'busy',
  'unsupported-arch',
  /** This build of Ferry has no agent runtime (or bundle) for the host's architecture. */
  'runtime-missing',
  'deploy-failed',
  'agent-not-installed',
  'agent-start-failed',
  'agent-start-timeout',
  'agent-stop-failed',
  'command-failed',
]);
export type HostFailureCode = z.infer<typeof HostFailureCode>;

export const PresentedHostKey = z.object({
  /** "ssh-ed25519", "ecdsa-sha2-nistp256", … */
  keyType: z.string(),
  /** "SHA256:…", as `ssh-keygen -lf` prints it. */
  fingerprint: z.string(),
  /** Where the old key is recorded ("path:line"), for host-key-changed. */
  knownAt: z.array(z.string()),
});
export type PresentedHostKey = z.infer<typeof PresentedHostKey>;

export const HostFailure = z.object({
  code: HostFailureCode,
  /** What happened and what to do, in English (the console shows it under its translated summary). */
  message: z.string(),
  /** 'jump' when the jump host failed (then hostId/hostName are the jump host's). */
  stage: z.enum(['target', 'jump']),
  /** The host the failure is about: act on this one (trust its key, give its password). */
  hostId: z.string(),
  hostName: z.string(),
  hostKey: PresentedHostKey.nullable(),
  /** For login failures: the method that was tried. */
  authMethod: z.enum(['agent', 'key', 'password']).nullable(),
  /** Last lines of the agent's log, when the agent itself failed to start. */
  logTail: z.string().nullable(),
});
export type HostFailure = z.infer<typeof HostFailure>;

/** A password or key passphrase, kept in the controller's memory for this session only. */
export const HostSecret = z.union([
  z.object({ password: z.string().min(1, 'Enter the password.').max(4096) }).strict(),
  z.object({ passphrase: z.string().min(1, 'Enter the passphrase.').max(4096) }).strict(),
]);
export type HostSecret = z.infer<typeof HostSecret>;

/** The agent on a host, as the last status check saw it. */
export const AgentState = z.object({
  /** Absolute agent home on the host (e.g. /root/.ferry). */
  home: z.string(),
  installedVersions: z.array(z.string()),
  currentVersion: z.string().nullable(),
  running: z.boolean(),
  pid: z.number().int().nullable(),
  runningVersion: z.string().nullable(),
  /** This Ferry's version: the agent version a deploy installs. */
  appVersion: z.string(),
  /** Installed or running, but not this Ferry's version: deploy upgrades it. */
  upgradeAvailable: z.boolean(),
  controlPort: z.number().int().nullable(),
  dataPort: z.number().int().nullable(),
  mode: z.enum(['nohup', 'systemd']).nullable(),
  checkedAt: z.string(),
});
export type AgentState = z.infer<typeof AgentState>;

export const HostConnectionState = z.enum(['unknown', 'connecting', 'connected', 'disconnected', 'failed']);
export type HostConnectionState = z.infer<typeof HostConnectionState>;

export const HostOperation = z.enum(['testing', 'trusting', 'deploying', 'stopping', 'restarting', 'uninstalling', 'checking', 'mounting']);
export type HostOperation = z.infer<typeof HostOperation>;

/** A step of a running deployment: which file, and what is done with it. */
export const DeployProgress = z.object({
  step: z.enum(['hashing', 'uploading', 'linking', 'verifying', 'starting']),
  file: z.string(),
  /** The file's size, for uploads. */
  bytes: z.number().int().nonnegative().nullable(),
});
export type DeployProgress = z.infer<typeof DeployProgress>;

/** Live state of one host: pushed as `hosts.status` (all hosts at once) whenever any of it changes. */
export const HostStatus = z.object({
  hostId: z.string(),
  connection: HostConnectionState,
  /** The operation running on the host now, if any. */
  busy: HostOperation.nullable(),
  /** The current step while deploying. */
  progress: DeployProgress.nullable(),
  /** The last failure (cleared by the next success). */
  failure: HostFailure.nullable(),
  facts: HostFacts.nullable(),
  agent: AgentState.nullable(),
  /** Whether a password or passphrase is held in memory for this host. */
  secretHeld: z.boolean(),
  updatedAt: z.string(),
});
export type HostStatus = z.infer<typeof HostStatus>;

const failed = z.object({ ok: z.literal(false), failure: HostFailure });
/** `{ok: true, ...}` or `{ok: false, failure}`: the result shape of every host operation. */
export function hostResult<T extends z.ZodRawShape>(shape: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), ...shape }), failed]);
}

export const HostTestResult = hostResult({ facts: HostFacts, hostKey: PresentedHostKey, agent: AgentState.nullable() });
export type HostTestResult = z.infer<typeof HostTestResult>;
export const TrustKeyResult = hostResult({ hostKey: PresentedHostKey, alreadyKnown: z.boolean() });
export type TrustKeyResult = z.infer<typeof TrustKeyResult>;

export const DeploySummary = z.object({
  version: z.string(),
  arch: z.string(),
  uploaded: z.array(z.string()),
  linked: z.array(z.string()),
  alreadyInstalled: z.boolean(),
  bytesSent: z.number().int().nonnegative(),
  ms: z.number().int().nonnegative(),
  /** The version that was running before and was replaced (an upgrade). */
  replacedVersion: z.string().nullable(),
});
export type DeploySummary = z.infer<typeof DeploySummary>;

export const AgentResult = hostResult({ agent: AgentState });
export type AgentResult = z.infer<typeof AgentResult>;
export const AgentDeployResult = hostResult({ agent: AgentState, deploy: DeploySummary });
export type AgentDeployResult = z.infer<typeof AgentDeployResult>;
export const AgentUninstallResult = hostResult({ agent: AgentState, removed: z.array(z.string()) });
export type AgentUninstallResult = z.infer<typeof AgentUninstallResult>;
export const AgentLogResult = hostResult({ text: z.string(), lines: z.number().int() });
export type AgentLogResult = z.infer<typeof AgentLogResult>;

export const HostIdRequest = z.object({ id: z.string().min(1) }).strict();

/** Where to read an OpenSSH client config from: pasted text, or a file path (default ~/.ssh/config). */
export const SshConfigSource = z
  .object({
    text: z.string().max(1024 * 1024).optional(),
    path: z.string().min(1).max(4096).optional(),
  })
  .strict()
  .refine((s) => !(s.text !== undefined && s.path !== undefined), 'Give either the config text or a file path, not both.');
export type SshConfigSource = z.infer<typeof SshConfigSource>;

export const SshConfigNote = z.object({
  line: z.number().int(),
  directive: z.string(),
  message: z.string(),
  host: z.string().nullable(),
});
export type SshConfigNote = z.infer<typeof SshConfigNote>;

export const SshConfigCandidate = z.object({
  /** The Host alias (becomes the host's name). */
  name: z.string(),
  address: z.string(),
  port: z.number().int(),
  user: z.string(),
  auth: HostAuth,
  jumpHost: z.string().nullable(),
  line: z.number().int(),
  /** Can be added as is (valid name, not in the inventory, jump host resolvable). */
  importable: z.boolean(),
  /** A host with this name is already in the inventory (it would be skipped). */
  exists: z.boolean(),
  /** Why it cannot be imported, or what was changed on the way (in English). */
  notes: z.array(z.string()),
});
export type SshConfigCandidate = z.infer<typeof SshConfigCandidate>;

export const SshConfigPreview = z.object({
  /** The file read, or null for pasted text. */
  path: z.string().nullable(),
  hosts: z.array(SshConfigCandidate),
  notes: z.array(SshConfigNote),
});
export type SshConfigPreview = z.infer<typeof SshConfigPreview>;

export const SshConfigApplyRequest = z
  .object({
    text: z.string().max(1024 * 1024).optional(),
    path: z.string().min(1).max(4096).optional(),
    names: z.array(PlanName).min(1, 'Choose at least one host to import.').max(500),
  })
  .strict();

export const SshConfigApplyResult = z.object({
  added: z.array(z.string()),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
});
export type SshConfigApplyResult = z.infer<typeof SshConfigApplyResult>;

export const LOG_TAIL_DEFAULT_LINES = 200;
export const LogTailRequest = z
  .object({ id: z.string().min(1), lines: z.number().int().min(1).max(5000).default(LOG_TAIL_DEFAULT_LINES) })
  .strict();
