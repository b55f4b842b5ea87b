/*
 * ferry_fs: the few filesystem calls Node cannot make, as a plain Node-API (C) addon.
 *
 *   utimens(path: Buffer|string, atimeSec, atimeNsec, mtimeSec, mtimeNsec, noFollow: boolean): undefined
 *   futimens(fd: number, atimeSec, atimeNsec, mtimeSec, mtimeNsec): undefined
 *   seekData(fd: number, offset: number|bigint): number   (-1 when there is no data at or after offset)
 *   seekHole(fd: number, offset: number|bigint): number   (-1 when offset is at or past the end)
 *   writeWhole(tempPath, finalPath, data, createMode, finalMode, expectedDev: bigint, uid, gid,
 *              atimeSec, atimeNsec, mtimeSec, mtimeNsec, flags, expectHash: Buffer|null, scratch: Buffer|null):
 *       number   (only exported when the process provides OpenSSL's SHA256, as Node's binary does)
 *
 * writeWhole puts a small file in place in one call, the whole sequence of AtomicFileWriter for a file
 * whose bytes are all in `data`: open tempPath O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW with createMode; fstat
 * (a regular file on expectedDev); write all; fsync (flags & 1); fchown to uid:gid when uid >= 0 and
 * the new file's owner differs; fchmod to finalMode when it differs or after a chown; with read-back
 * (flags & 2) pread the file into scratch (at least data.length + 1 bytes, so a longer file shows) and
 * its SHA-256 must equal expectHash; futimens (after the read, which may set atime); close; rename to
 * finalPath. Returns 0 when the file is in place, or, with the temp file removed: 1 the new file is on
 * another device (the mount is gone), 2 it is not a regular file, 3 it read back different. A failing system call throws (as above) after
 * the temp file is closed and removed; EEXIST from the open means the temp name was taken (nothing was
 * created, try another). Why: the nine calls cost about 1.2 us each through Node's fs bindings.
 *
 *   readWhole(path, out: Buffer, offset, cap, stats: BigInt64Array(11), digest: Buffer(32)): number
 *       (exported with writeWhole)
 *
 * readWhole reads a small file whole, the source's side of the same idea: open path O_RDONLY|O_NOFOLLOW
 * (and O_NONBLOCK);
 * fstat into stats ([mode, uid, gid, nlink, size, blocks, atimeNs, mtimeNs, ctimeNs, dev, ino], dev and
 * ino as unsigned bit patterns, dev encoded as libuv does); a regular file, dense, of at most cap
 * bytes is read into out[offset..], fstat'ed again and closed, and its SHA-256 goes into digest.
 * Returns the bytes read, or: -1 it changed while read (size, mtime, ctime or inode differ, or it ended
 * sooner), -2 it is not a regular file, -3 it is larger than cap or sparse (stream it instead); stats
 * hold the first fstat in all these cases. A failing system call throws, the fd closed.
 *
 *   lstatInto(path, stats: BigInt64Array(11)): undefined
 *
 * lstatInto is lstat into the same 11 values, without the BigIntStats object Node makes per call
 * (a source lists, and so lstats, every entry of its tree).
 *
 * Seconds may be a bigint or an integral number; nanoseconds 0..999999999. Passing null (or undefined)
 * as the seconds of atime or mtime leaves that time unchanged (UTIME_OMIT).
 * Errors are thrown as Error objects shaped like Node's fs errors: .code is the errno name ('ENOENT'),
 * .errno the negated errno number (as in Node), .syscall the call name.
 *
 * Why: fs.utimes takes doubles (about 240 ns resolution at 2026 timestamps, and libuv truncates to
 * microseconds), and Node has no SEEK_DATA / SEEK_HOLE. Ferry keeps mtimes to the nanosecond and
 * sparse files sparse.
 *
 * Built by build/native.mjs (gcc -shared -fPIC; Node-API symbols resolve against the node binary at
 * load time). Uses only old glibc symbols, so one build runs on any glibc the Node 24 runtime runs on.
 * Holds no global state, so it can be loaded in several worker threads at once.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A pending JS exception or a failed napi call: give up and return NULL (undefined) to JS. */
#define CHECK(env, call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      throw_napi_failure((env), #call);                                      \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static void throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  const char *msg = NULL;
  if (napi_get_last_error_info(env, &info) == napi_ok && info != NULL) msg = info->error_message;
  char buf[256];
  snprintf(buf, sizeof buf, "ferry_fs: %s failed: %s", what, msg ? msg : "unknown Node-API error");
  napi_throw_error(env, "ERR_FERRY_NATIVE", buf);
}

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESTALE: return "ESTALE";
    case EDQUOT: return "EDQUOT";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOTCONN: return "ENOTCONN";
    case ENOLCK: return "ENOLCK";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error with .code, .errno (negative, like Node) and .syscall. Returns NULL for convenience. */
static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  const char *name = errno_name(err);
  char text[320];
  snprintf(text, sizeof text, "%s: %s, %s", name, strerror(err), syscall);
  napi_value code, message, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, code, message, &error) != napi_ok ||
      napi_create_int32(env, -err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok ||
      napi_throw(env, error) != napi_ok) {
    throw_napi_failure(env, "throwing an errno error");
  }
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* Reads an integer given as bigint or integral number. Returns 0 on success, -1 after throwing. */
static int get_int64(napi_env env, napi_value v, const char *what, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    throw_napi_failure(env, "napi_typeof");
    return -1;
  }
  char msg[128];
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok) {
      throw_napi_failure(env, "napi_get_value_bigint_int64");
      return -1;
    }
    if (!lossless) {
      snprintf(msg, sizeof msg, "%s does not fit in 64 bits", what);
      throw_range(env, msg);
      return -1;
    }
    return 0;
  }
  if (t == napi_number) {
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok) {
      throw_napi_failure(env, "napi_get_value_double");
      return -1;
    }
    /* Integral and exactly representable (|d| < 2^53). */
    if (!(d == d) || d > 9007199254740991.0 || d < -9007199254740991.0 || d != (double)(int64_t)d) {
      snprintf(msg, sizeof msg, "%s must be an integer", what);
      throw_range(env, msg);
      return -1;
    }
    *out = (int64_t)d;
    return 0;
  }
  snprintf(msg, sizeof msg, "%s must be a bigint or a number", what);
  throw_type(env, msg);
  return -1;
}

static int get_fd(napi_env env, napi_value v, int *fd) {
  int64_t n;
  if (get_int64(env, v, "fd", &n) != 0) return -1;
  if (n < 0 || n > INT_MAX) {
    throw_range(env, "fd out of range");
    return -1;
  }
  *fd = (int)n;
  return 0;
}

static bool is_nullish(napi_env env, napi_value v, bool *ok) {
  napi_valuetype t;
  *ok = napi_typeof(env, v, &t) == napi_ok;
  if (!*ok) throw_napi_failure(env, "napi_typeof");
  return *ok && (t == napi_null || t == napi_undefined);
}

/* (sec, nsec) pair → timespec; null seconds means UTIME_OMIT. Returns 0 or -1 after throwing. */
static int get_timespec(napi_env env, napi_value sec, napi_value nsec, const char *what, struct timespec *ts) {
  bool ok;
  if (is_nullish(env, sec, &ok)) {
    ts->tv_sec = 0;
    ts->tv_nsec = UTIME_OMIT;
    return 0;
  }
  if (!ok) return -1;
  int64_t s, ns;
  if (get_int64(env, sec, what, &s) != 0 || get_int64(env, nsec, what, &ns) != 0) return -1;
  if (ns < 0 || ns > 999999999) {
    throw_range(env, "nanoseconds must be 0..999999999");
    return -1;
  }
  ts->tv_sec = (time_t)s;
  ts->tv_nsec = (long)ns;
  return 0;
}

/*
 * Copies a Buffer/Uint8Array or string path into a NUL-terminated stack buffer. 0 or -1 after throwing
 * (ENAMETOOLONG named after the call that would have taken the path).
 */
static int get_path(napi_env env, napi_value v, char *out, size_t cap, const char *syscall) {
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok) {
    throw_napi_failure(env, "napi_is_buffer");
    return -1;
  }
  if (is_buffer) {
    void *data = NULL;
    size_t len = 0;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
      throw_napi_failure(env, "napi_get_buffer_info");
      return -1;
    }
    if (len >= cap) {
      throw_errno(env, ENAMETOOLONG, syscall);
      return -1;
    }
    if (len > 0 && memchr(data, 0, len) != NULL) {
      throw_type(env, "path must not contain NUL bytes");
      return -1;
    }
    if (len > 0) memcpy(out, data, len);
    out[len] = '\0';
    return 0;
  }
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    throw_napi_failure(env, "napi_typeof");
    return -1;
  }
  if (t != napi_string) {
    throw_type(env, "path must be a Buffer or a string");
    return -1;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return -1;
  }
  if (len >= cap) {
    throw_errno(env, ENAMETOOLONG, syscall);
    return -1;
  }
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &copied) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return -1;
  }
  if (strlen(out) != copied) {
    throw_type(env, "path must not contain NUL bytes");
    return -1;
  }
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_cb_info");
    return -1;
  }
  if (argc < want) {
    throw_type(env, "missing arguments");
    return -1;
  }
  return 0;
}

static napi_value js_utimens(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv) != 0) return NULL;
  char path[PATH_MAX];
  if (get_path(env, argv[0], path, sizeof path, "utimensat") != 0) return NULL;
  struct timespec ts[2];
  if (get_timespec(env, argv[1], argv[2], "atime", &ts[0]) != 0) return NULL;
  if (get_timespec(env, argv[3], argv[4], "mtime", &ts[1]) != 0) return NULL;
  bool no_follow = false;
  CHECK(env, napi_get_value_bool(env, argv[5], &no_follow));
  if (utimensat(AT_FDCWD, path, ts, no_follow ? AT_SYMLINK_NOFOLLOW : 0) != 0) return throw_errno(env, errno, "utimensat");
  return NULL;
}

static napi_value js_futimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv) != 0) return NULL;
  int fd;
  if (get_fd(env, argv[0], &fd) != 0) return NULL;
  struct timespec ts[2];
  if (get_timespec(env, argv[1], argv[2], "atime", &ts[0]) != 0) return NULL;
  if (get_timespec(env, argv[3], argv[4], "mtime", &ts[1]) != 0) return NULL;
  if (futimens(fd, ts) != 0) return throw_errno(env, errno, "futimens");
  return NULL;
}

static napi_value seek(napi_env env, napi_callback_info info, int whence, const char *name) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv) != 0) return NULL;
  int fd;
  int64_t offset;
  if (get_fd(env, argv[0], &fd) != 0) return NULL;
  if (get_int64(env, argv[1], "offset", &offset) != 0) return NULL;
  if (offset < 0) return throw_range(env, "offset must not be negative");
  off_t r = lseek(fd, (off_t)offset, whence);
  if (r < 0) {
    if (errno == ENXIO) r = -1;
    else return throw_errno(env, errno, name);
  }
  napi_value result;
  CHECK(env, napi_create_int64(env, (int64_t)r, &result));
  return result;
}

static napi_value js_seek_data(napi_env env, napi_callback_info info) {
  return seek(env, info, SEEK_DATA, "lseek(SEEK_DATA)");
}

static napi_value js_seek_hole(napi_env env, napi_callback_info info) {
  return seek(env, info, SEEK_HOLE, "lseek(SEEK_HOLE)");
}

/* OpenSSL's one-shot SHA-256, from the node binary (Node exports its OpenSSL for addons). Weak: when
 * a process does not provide it the addon still loads, without writeWhole. */
extern unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md) __attribute__((weak));

static int get_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) != napi_ok || !ok) {
    if (!ok) throw_type(env, "expected a Buffer");
    else throw_napi_failure(env, "napi_is_buffer");
    return -1;
  }
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) {
    throw_napi_failure(env, "napi_get_buffer_info");
    return -1;
  }
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    throw_type(env, "expected a number");
    return -1;
  }
  return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = pwrite(fd, p + off, len - off, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    off += (size_t)n;
  }
  return 0;
}

/* Reads from offset 0 until EOF or cap bytes; the count read, or -1. */
static ssize_t read_back(int fd, unsigned char *p, size_t cap) {
  size_t off = 0;
  while (off < cap) {
    ssize_t n = pread(fd, p + off, cap - off, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    off += (size_t)n;
  }
  return (ssize_t)off;
}

enum { WW_FSYNC = 1, WW_READ_BACK = 2 };
enum { WW_OK = 0, WW_OTHER_DEVICE = 1, WW_NOT_REGULAR = 2, WW_READ_BACK_DIFFERS = 3 };

struct whole_file {
  char temp[PATH_MAX];
  char final_path[PATH_MAX];
  const unsigned char *data;
  size_t len;
  int32_t create_mode, final_mode, uid, gid, flags;
  uint64_t expected_dev;
  struct timespec times[2];
  const unsigned char *expect_hash; /* 32 bytes, or NULL */
  unsigned char *scratch;
  size_t scratch_len;
};

/* The system calls of writeWhole. Returns a WW_ status, or -1 with errno and *syscall set. */
static int write_whole_file(struct whole_file *w, const char **syscall) {
  int fd;
  do fd = open(w->temp, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, (mode_t)w->create_mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *syscall = "open";
    return -1;
  }
  int status = WW_OK;
  /* statx rather than fstat: glibc's fstat symbol is 2.33, statx 2.28 (the oldest Node 24 runs on). */
  struct statx st;
  unsigned char digest[32];
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, &st) != 0) {
    *syscall = "fstat";
    goto failed;
  }
  /* The same encoding as libuv's st_dev, which expectedDev came from. */
  if ((uint64_t)makedev(st.stx_dev_major, st.stx_dev_minor) != w->expected_dev) {
    status = WW_OTHER_DEVICE;
    goto refused;
  }
  if (!S_ISREG(st.stx_mode)) {
    status = WW_NOT_REGULAR;
    goto refused;
  }
  if (write_all(fd, w->data, w->len) != 0) {
    *syscall = "write";
    goto failed;
  }
  if ((w->flags & WW_FSYNC) && fsync(fd) != 0) {
    *syscall = "fsync";
    goto failed;
  }
  bool chowned = false;
  if (w->uid >= 0 && ((uid_t)w->uid != st.stx_uid || (gid_t)w->gid != st.stx_gid)) {
    if (fchown(fd, (uid_t)w->uid, (gid_t)w->gid) != 0) {
      *syscall = "fchown";
      goto failed;
    }
    chowned = true;
  }
  /* After the chown, which clears setuid/setgid. */
  if ((chowned || (int32_t)(st.stx_mode & 07777) != w->final_mode) && fchmod(fd, (mode_t)w->final_mode) != 0) {
    *syscall = "fchmod";
    goto failed;
  }
  if (w->flags & WW_READ_BACK) {
    ssize_t n = read_back(fd, w->scratch, w->len + 1);
    if (n < 0) {
      *syscall = "read";
      goto failed;
    }
    if ((size_t)n != w->len || memcmp(SHA256(w->scratch, (size_t)n, digest), w->expect_hash, 32) != 0) {
      status = WW_READ_BACK_DIFFERS;
      goto refused;
    }
  }
  /* After the read-back, which may set atime. */
  if (futimens(fd, w->times) != 0) {
    *syscall = "futimens";
    goto failed;
  }
  if (close(fd) != 0) {
    fd = -1;
    *syscall = "close";
    goto failed;
  }
  fd = -1;
  if (rename(w->temp, w->final_path) != 0) {
    *syscall = "rename";
    goto failed;
  }
  return WW_OK;

failed:
  status = -1;
refused: {
  int saved = errno;
  if (fd >= 0) close(fd);
  unlink(w->temp);
  errno = saved;
  return status;
}
}

static napi_value js_write_whole(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (get_args(env, info, 15, argv) != 0) return NULL;
  struct whole_file w;
  if (get_path(env, argv[0], w.temp, sizeof w.temp, "open") != 0 || get_path(env, argv[1], w.final_path, sizeof w.final_path, "rename") != 0) return NULL;
  void *data = NULL;
  if (get_buffer(env, argv[2], &data, &w.len) != 0) return NULL;
  w.data = data;
  if (get_i32(env, argv[3], &w.create_mode) != 0 || get_i32(env, argv[4], &w.final_mode) != 0) return NULL;
  bool lossless = false;
  if (napi_get_value_bigint_uint64(env, argv[5], &w.expected_dev, &lossless) != napi_ok || !lossless) return throw_type(env, "expectedDev must be a bigint");
  if (get_i32(env, argv[6], &w.uid) != 0 || get_i32(env, argv[7], &w.gid) != 0) return NULL;
  if (get_timespec(env, argv[8], argv[9], "atime", &w.times[0]) != 0 || get_timespec(env, argv[10], argv[11], "mtime", &w.times[1]) != 0) return NULL;
  if (get_i32(env, argv[12], &w.flags) != 0) return NULL;
  w.expect_hash = NULL;
  w.scratch = NULL;
  w.scratch_len = 0;
  if (w.flags & WW_READ_BACK) {
    void *hash = NULL, *scratch = NULL;
    size_t hash_len = 0;
    if (get_buffer(env, argv[13], &hash, &hash_len) != 0 || get_buffer(env, argv[14], &scratch, &w.scratch_len) != 0) return NULL;
    if (hash_len != 32) return throw_range(env, "expectHash must be 32 bytes");
    if (w.scratch_len < w.len + 1) return throw_range(env, "scratch must hold data.length + 1 bytes");
    w.expect_hash = hash;
    w.scratch = scratch;
  }
  const char *syscall = "";
  int status = write_whole_file(&w, &syscall);
  if (status < 0) return throw_errno(env, errno, syscall);
  napi_value result;
  CHECK(env, napi_create_int32(env, status, &result));
  return result;
}

enum { RW_CHANGED = -1, RW_NOT_REGULAR = -2, RW_NOT_SMALL = -3 };
enum { RW_STATS = 11 };

static int64_t statx_ns(const struct statx_timestamp *t) {
  return (int64_t)t->tv_sec * 1000000000 + (int64_t)t->tv_nsec;
}

static int fstat_x(int fd, struct statx *st) {
  return statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, st);
}

static void fill_stats(int64_t *out, const struct statx *st) {
  out[0] = st->stx_mode;
  out[1] = st->stx_uid;
  out[2] = st->stx_gid;
  out[3] = st->stx_nlink;
  out[4] = (int64_t)st->stx_size;
  out[5] = (int64_t)st->stx_blocks;
  out[6] = statx_ns(&st->stx_atime);
  out[7] = statx_ns(&st->stx_mtime);
  out[8] = statx_ns(&st->stx_ctime);
  out[9] = (int64_t)makedev(st->stx_dev_major, st->stx_dev_minor);
  out[10] = (int64_t)st->stx_ino;
}

static bool stat_changed(const struct statx *a, const struct statx *b) {
  return a->stx_size != b->stx_size || a->stx_ino != b->stx_ino || statx_ns(&a->stx_mtime) != statx_ns(&b->stx_mtime) ||
         statx_ns(&a->stx_ctime) != statx_ns(&b->stx_ctime);
}

/* The system calls of readWhole: the byte count or an RW_ status, or -100 with errno and *syscall set. */
static ssize_t read_whole_file(const char *path, unsigned char *out, size_t cap, int64_t *stats, const char **syscall) {
  int fd;
  /* O_NONBLOCK: a name that became a FIFO must not wait for a writer (no effect on regular files). */
  do fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *syscall = "open";
    return -100;
  }
  struct statx before, after;
  ssize_t result;
  if (fstat_x(fd, &before) != 0) {
    *syscall = "fstat";
    goto failed;
  }
  fill_stats(stats, &before);
  if (!S_ISREG(before.stx_mode)) result = RW_NOT_REGULAR;
  else if (before.stx_size > cap || before.stx_blocks * 512 < before.stx_size) result = RW_NOT_SMALL;
  else {
    size_t want = (size_t)before.stx_size, got = 0;
    while (got < want) {
      ssize_t n = pread(fd, out + got, want - got, (off_t)got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        *syscall = "read";
        goto failed;
      }
      if (n == 0) break;
      got += (size_t)n;
    }
    if (fstat_x(fd, &after) != 0) {
      *syscall = "fstat";
      goto failed;
    }
    result = got != want || stat_changed(&before, &after) ? RW_CHANGED : (ssize_t)got;
  }
  if (close(fd) != 0) {
    *syscall = "close";
    return -100;
  }
  return result;

failed: {
  int saved = errno;
  close(fd);
  errno = saved;
  return -100;
}
}

static napi_value js_read_whole(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (get_args(env, info, 6, argv) != 0) return NULL;
  char path[PATH_MAX];
  if (get_path(env, argv[0], path, sizeof path, "open") != 0) return NULL;
  void *out = NULL, *digest = NULL;
  size_t out_len = 0, digest_len = 0;
  if (get_buffer(env, argv[1], &out, &out_len) != 0) return NULL;
  int64_t offset, cap;
  if (get_int64(env, argv[2], "offset", &offset) != 0 || get_int64(env, argv[3], "cap", &cap) != 0) return NULL;
  if (offset < 0 || cap < 0 || (uint64_t)offset + (uint64_t)cap > out_len) return throw_range(env, "out must hold cap bytes at offset");
  napi_typedarray_type type;
  size_t stats_len = 0;
  void *stats = NULL;
  if (napi_get_typedarray_info(env, argv[4], &type, &stats_len, &stats, NULL, NULL) != napi_ok || type != napi_bigint64_array || stats_len < RW_STATS) {
    return throw_type(env, "stats must be a BigInt64Array of 11");
  }
  if (get_buffer(env, argv[5], &digest, &digest_len) != 0) return NULL;
  if (digest_len < 32) return throw_range(env, "digest must hold 32 bytes");
  const char *syscall = "";
  ssize_t n = read_whole_file(path, (unsigned char *)out + offset, (size_t)cap, stats, &syscall);
  if (n == -100) return throw_errno(env, errno, syscall);
  if (n >= 0) SHA256((unsigned char *)out + offset, (size_t)n, digest);
  napi_value result;
  CHECK(env, napi_create_int64(env, (int64_t)n, &result));
  return result;
}

/* lstatInto (see the top): statx without following a last symlink, as lstat. */
static napi_value js_lstat_into(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv) != 0) return NULL;
  char path[PATH_MAX];
  if (get_path(env, argv[0], path, sizeof path, "lstat") != 0) return NULL;
  napi_typedarray_type type;
  size_t stats_len = 0;
  void *stats = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &stats_len, &stats, NULL, NULL) != napi_ok || type != napi_bigint64_array || stats_len < RW_STATS) {
    return throw_type(env, "stats must be a BigInt64Array of 11");
  }
  struct statx st;
  if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &st) != 0) return throw_errno(env, errno, "lstat");
  fill_stats((int64_t *)stats, &st);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "utimens", NULL, js_utimens, NULL, NULL, NULL, napi_enumerable, NULL },
    { "futimens", NULL, js_futimens, NULL, NULL, NULL, napi_enumerable, NULL },
    { "seekData", NULL, js_seek_data, NULL, NULL, NULL, napi_enumerable, NULL },
    { "seekHole", NULL, js_seek_hole, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lstatInto", NULL, js_lstat_into, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (SHA256 != NULL) {
    napi_property_descriptor whole[] = {
      { "writeWhole", NULL, js_write_whole, NULL, NULL, NULL, napi_enumerable, NULL },
      { "readWhole", NULL, js_read_whole, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    CHECK(env, napi_define_properties(env, exports, 2, whole));
  }
  return exports;
}
