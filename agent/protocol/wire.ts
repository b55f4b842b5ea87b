/**
 * The agents' TLS wire: frame layout and limits, the handshake, and the JSON messages of the
 * coordinator channel (coordinator <-> workers). Both ends import this file; it is pure (no IO).
 *
 * A frame is: u32 big-endian length L (of what follows), u8 type, L-1 bytes of payload.
 * L must be 1..MAX_FRAME_LENGTH; anything else is rejected before a byte of payload is buffered.
 * The first frame on every connection is HELLO (JSON); the listener answers WELCOME or REJECT and
 * closes on REJECT. Data-plane frames (file records) are binary and encoded in agent/engine/records.ts.
 *
 * Never: paths as JS strings. Every relative path travels as base64 of its raw bytes in JSON, or as
 * raw bytes in binary records.
 */
import { z } from 'zod';

/** Bumped on any incompatible change of a frame, record or message. */
export const WIRE_PROTOCOL_VERSION = 2;

/** Largest data chunk a sender puts in one frame. */
export const MAX_CHUNK = 1024 * 1024;
/** Largest frame accepted: 16 MiB of payload plus room for a record header. */
export const MAX_FRAME_LENGTH = 16 * 1024 * 1024 + 64 * 1024;
export const FRAME_HEADER_BYTES = 5;

export const FrameType = {
  hello: 0x01,
  welcome: 0x02,
  reject: 0x03,
  /** A JSON message of the coordinator channel (CoordinatorMessage / WorkerMessage). */
  json: 0x10,
  /** Data plane: start of a file (header; small files carry all their bytes inline). */
  fileHead: 0x21,
  /** Data plane: a chunk of a file's bytes at an offset. */
  fileData: 0x22,
  /** Data plane: end of a file: the source's SHA-256, or why the source gave it up. */
  fileEnd: 0x23,
  /** Data plane: a symlink, complete in one frame. */
  symlink: 0x24,
  /** Data plane: end of a batch; the destination answers with batchAck. */
  batchEnd: 0x25,
  /** Data plane, destination -> source: per-record results of a batch (JSON). */
  batchAck: 0x26,
  /** Data plane: start of one byte range of a large file, written into the file's staging file. */
  rangeHead: 0x27,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Stable codes of wire errors (what the peer did wrong); the text says what to do. */
export const WireErrorCode = z.enum([
  'frame-too-large',
  'truncated-frame',
  'bad-frame',
  'bad-hello',
  'protocol-mismatch',
  'bad-token',
  'unknown-task',
  'wrong-certificate',
  'unsafe-path',
]);
export type WireErrorCode = z.infer<typeof WireErrorCode>;

export const Hello = z.object({
  protocolVersion: z.number().int(),
  /** 'worker': a worker's channel to its coordinator; 'data': a source streaming files to a destination. */
  channel: z.enum(['worker', 'data']),
  taskId: z.string().min(1).max(128),
  token: z.string().min(1).max(256),
  agentId: z.string().min(1).max(128),
  agentVersion: z.string(),
  /** Worker channel only: what this worker does, and (destinations) where sources reach it. */
  role: z.enum(['source', 'destination']).optional(),
  /** Worker channel: whether the worker runs as root (then owners are copied and verified). */
  isRoot: z.boolean().optional(),
  dataAddress: z.object({ host: z.string(), port: z.number().int().min(1).max(65535), fingerprint: z.string() }).optional(),
});
export type Hello = z.infer<typeof Hello>;

export const Welcome = z.object({ protocolVersion: z.number().int(), agentId: z.string(), agentVersion: z.string() });
export type Welcome = z.infer<typeof Welcome>;

export const Reject = z.object({ code: WireErrorCode, message: z.string() });
export type Reject = z.infer<typeof Reject>;

/** Base64 of raw path bytes. */
const B64 = z.string();

/** Entry metadata in JSON: bigints (ns times, dev, ino) as decimal strings. */
export const WireMeta = z.object({
  kind: z.enum(['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block']),
  size: z.number(),
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  atimeNs: z.string(),
  mtimeNs: z.string(),
  ctimeNs: z.string(),
  dev: z.string(),
  ino: z.string(),
  nlink: z.number().int(),
  blocks: z.number(),
});
export type WireMeta = z.infer<typeof WireMeta>;

export const WireEntry = z.object({ name: B64, meta: WireMeta, target: B64.optional() });
export type WireEntry = z.infer<typeof WireEntry>;
export const WireEntryError = z.object({ name: B64, code: z.string(), message: z.string() });
export type WireEntryError = z.infer<typeof WireEntryError>;

/** Names a large file's staging file (unique per task and entry); safe as part of a file name. */
export const StageKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
/** A staging file: the entry's path (base64) and its staging key. */
export const StagingRef = z.object({ rel: B64, stage: StageKey });
export type StagingRef = z.infer<typeof StagingRef>;

/** A destination a source streams to. */
export const DataTarget = z.object({ agentId: z.string(), host: z.string(), port: z.number().int(), fingerprint: z.string() });
export type DataTarget = z.infer<typeof DataTarget>;

export const CopyItem = z.object({
  id: z.number().int(),
  rel: B64,
  kind: z.enum(['file', 'symlink']),
  size: z.number(),
  /** Checksum mode: the destination's current hash; the source skips sending when its own matches. */
  skipIfHash: z.string().optional(),
  /** metaSig of the meta as listed: the source returns its meta only when the file's differs. */
  sig: z.string().optional(),
  /**
   * Only bytes [offset, offset + length) of the file, into the staging file RANGE_STAGE_PREFIX + stage
   * of its destination directory; a 'commit' job gives the staging file its metadata and name once
   * every range is verified. A source refuses a range of a file that no longer matches sig.
   */
  range: z.object({ offset: z.number().int().min(0), length: z.number().int().min(1), stage: StageKey }).optional(),
});
export type CopyItem = z.infer<typeof CopyItem>;

export const ProbeItem = z.object({ id: z.number().int(), rel: B64, size: z.number(), hash: z.boolean() });
export const LinkItem = z.object({ id: z.number().int(), rel: B64, target: B64 });
export const DirItem = z.object({ id: z.number().int(), rel: B64, meta: WireMeta });
export const DeleteItem = z.object({ rel: B64, kind: z.string() });
/** A large file whose ranges are all verified: its staging file gets meta and is renamed to rel. */
export const CommitItem = z.object({
  id: z.number().int(),
  rel: B64,
  stage: StageKey,
  stageId: z.string().max(100),
  meta: WireMeta,
  rangeSize: z.number().int().min(1),
  /**
   * 'transferred' verification: SHA-256 over the source's range digests. The destination reads the
   * whole staging file back, range by range, and commits only when its digests give the same.
   */
  srcHash: z.string().optional(),
});

/** Coordinator -> worker. */
export const CoordinatorMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('setup'),
    settings: z.object({
      verify: z.enum(['none', 'transferred', 'full']),
      preserveOwner: z.boolean(),
      fsync: z.boolean(),
      bwlimit: z.object({ bytesPerSec: z.number(), windows: z.array(z.object({ from: z.number(), to: z.number() })) }).nullable(),
      concurrency: z.number().int().min(1),
    }),
  }),
  z.object({ t: z.literal('list'), job: z.number().int(), dirs: z.array(z.object({ id: z.number().int(), rel: B64 })), hash: z.boolean() }),
  z.object({ t: z.literal('copy'), job: z.number().int(), dest: DataTarget, items: z.array(CopyItem) }),
  z.object({ t: z.literal('probe'), job: z.number().int(), items: z.array(ProbeItem) }),
  z.object({ t: z.literal('link'), job: z.number().int(), items: z.array(LinkItem) }),
  z.object({ t: z.literal('dirs'), job: z.number().int(), items: z.array(DirItem) }),
  z.object({ t: z.literal('delete'), job: z.number().int(), items: z.array(DeleteItem) }),
  z.object({ t: z.literal('commit'), job: z.number().int(), items: z.array(CommitItem) }),
  /** Staging files of attempts that ended (the file started over or failed): removed to free the space. */
  z.object({ t: z.literal('discard'), job: z.number().int(), items: z.array(StagingRef) }),
  z.object({ t: z.literal('pause'), paused: z.boolean() }),
  /**
   * The task ended for this agent. discard (a cancelled task): staging files of large files it left
   * unfinished, which a destination removes once its own writing has stopped.
   */
  z.object({ t: z.literal('stop'), reason: z.string(), discard: z.array(StagingRef).optional() }),
]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessage>;

/** Outcome of one item of a job. */
export const ItemResult = z.object({
  id: z.number().int(),
  /** ok: done; unchanged: skipped (checksum matched); changed: kept changing while read; failed: see code. */
  status: z.enum(['ok', 'unchanged', 'changed', 'failed']),
  srcHash: z.string().optional(),
  dstHash: z.string().optional(),
  /** transferred verification: hash of what the destination re-read after the rename. */
  readBackHash: z.string().optional(),
  bytes: z.number().optional(),
  /** When the source saw a different size/mtime than the listing, the meta actually copied. */
  meta: WireMeta.optional(),
  /** A range: the staging file it was written to (its commit must find the same one). */
  stageId: z.string().optional(),
  code: z.string().optional(),
  reason: z.string().optional(),
});
export type ItemResult = z.infer<typeof ItemResult>;

export const ProbeResult = z.object({
  id: z.number().int(),
  exists: z.boolean(),
  kind: z.string().optional(),
  size: z.number().optional(),
  mtimeNs: z.string().optional(),
  hash: z.string().optional(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

/** Worker -> coordinator. */
export const WorkerMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('listed'),
    job: z.number().int(),
    dir: z.number().int(),
    entries: z.array(WireEntry),
    errors: z.array(WireEntryError),
    /** Full verification: SHA-256 per file name (b64 name -> hex). */
    hashes: z.record(z.string(), z.string()).optional(),
    /** The last chunk of this directory. */
    done: z.boolean(),
    /** The directory itself could not be listed. */
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  z.object({ t: z.literal('done'), job: z.number().int() }),
  z.object({ t: z.literal('copied'), job: z.number().int(), results: z.array(ItemResult) }),
  z.object({ t: z.literal('probed'), job: z.number().int(), results: z.array(ProbeResult) }),
  z.object({ t: z.literal('applied'), job: z.number().int(), results: z.array(ItemResult) }),
  /** A job could not run at all (e.g. the destination is unreachable): retry elsewhere or later. */
  z.object({ t: z.literal('retry'), job: z.number().int(), code: z.string(), message: z.string() }),
  /** The worker cannot go on (mount lost): the task must stop. */
  z.object({ t: z.literal('fatal'), code: z.string(), message: z.string() }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
