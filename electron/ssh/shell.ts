/**
 * POSIX shell quoting for commands Ferry runs on hosts. Every value that goes into a remote command
 * line goes through `shQuote` (or `shPath` for paths that may start with "~/"); nothing is ever
 * interpolated raw. Pure.
 */

/** Single-quotes a value for sh: safe for any bytes except NUL. */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('A shell argument cannot contain a NUL byte.');
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes a remote path; a leading "~/" (or "~") becomes "$HOME" so the remote shell expands it. */
export function shPath(remotePath: string): string {
  if (remotePath === '~') return '"$HOME"';
  if (remotePath.startsWith('~/')) return `"$HOME"/${shQuote(remotePath.slice(2))}`;
  return shQuote(remotePath);
}

/** For SFTP, which resolves relative paths against the login directory: "~/x" becomes "x". */
export function sftpPath(remotePath: string): string {
  if (remotePath === '~') return '.';
  if (remotePath.startsWith('~/')) return remotePath.slice(2);
  return remotePath;
}
