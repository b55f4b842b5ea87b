// Relative paths from the wire: what is refused, how paths are joined and shown.
import { describe, expect, it } from 'vitest';
import { FsError, classify } from '../../agent/fs/errors.ts';
import { checkPathLength, joinRel, relToDisplay, resolveRel, splitParent, validateName, validateRelPath } from '../../agent/fs/relpath.ts';

const b = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(FsError);
    return (err as FsError).code;
  }
}

describe('validateRelPath', () => {
  it('accepts ordinary, nested, dotted and non-UTF-8 paths and the root', () => {
    for (const ok of ['a', 'a/b/c', '.hidden', '..x', 'x..', 'a/.b/c..', 'a b/\n', 'n'.repeat(255), `${'d/'.repeat(100)}f`]) {
      expect(codeOf(() => validateRelPath(b(ok))), ok).toBeUndefined();
    }
    expect(codeOf(() => validateRelPath(b([0xc4, 0xe3, 0x2f, 0xe9])))).toBeUndefined();
    expect(codeOf(() => validateRelPath(Buffer.alloc(0)))).toBeUndefined();
  });

  it('refuses anything that could escape the root or is malformed', () => {
    for (const bad of ['/etc/passwd', '/', '..', '../x', 'a/../b', 'a/..', '.', './a', 'a/./b', 'a/.', 'a//b', 'a/', 'a/b/']) {
      expect(codeOf(() => validateRelPath(b(bad))), bad).toBe('unsafe-path');
    }
    expect(codeOf(() => validateRelPath(b([0x61, 0x00, 0x62])))).toBe('unsafe-path');
    expect(codeOf(() => validateRelPath(b([0x00])))).toBe('unsafe-path');
  });

  it('enforces NAME_MAX and PATH_MAX', () => {
    expect(codeOf(() => validateRelPath(b('n'.repeat(256))))).toBe('path-too-long');
    expect(codeOf(() => validateRelPath(b(`a/${'n'.repeat(256)}/b`)))).toBe('path-too-long');
    expect(codeOf(() => validateRelPath(b('ab/'.repeat(1365) + 'a')))).toBe('path-too-long'); // 4096 bytes
    expect(codeOf(() => validateRelPath(b('ab/'.repeat(1364) + 'abc')))).toBeUndefined(); // 4095 bytes
  });

  it('validates single names', () => {
    expect(codeOf(() => validateName(b('ok')))).toBeUndefined();
    for (const bad of ['', '.', '..', 'a/b']) expect(codeOf(() => validateName(b(bad))), bad).toBe('unsafe-path');
    expect(codeOf(() => validateName(b('n'.repeat(256))))).toBe('path-too-long');
  });
});

describe('joining and splitting', () => {
  it('joins root and rel with one slash; the empty rel is the root', () => {
    expect(joinRel(b('/mnt/x'), b('a/b')).toString()).toBe('/mnt/x/a/b');
    expect(joinRel(b('/mnt/x/'), b('a')).toString()).toBe('/mnt/x/a');
    expect(joinRel(b('/'), b('a')).toString()).toBe('/a');
    expect(joinRel(b('/mnt/x'), Buffer.alloc(0)).toString()).toBe('/mnt/x');
    expect(resolveRel(b('/r'), b([0xe9])).equals(b([0x2f, 0x72, 0x2f, 0xe9]))).toBe(true);
    expect(codeOf(() => resolveRel(b('/r'), b('../x')))).toBe('unsafe-path');
  });

  it('refuses to build an absolute path over 4095 bytes', () => {
    const root = b(`/${'r'.repeat(2000)}`);
    expect(codeOf(() => joinRel(root, b(`${'n'.repeat(200)}/`.repeat(11) + 'x')))).toBe('path-too-long');
    expect(codeOf(() => checkPathLength(b(`/${'a'.repeat(4095)}`)))).toBe('path-too-long');
    expect(codeOf(() => checkPathLength(b(`/x/${'a'.repeat(256)}`)))).toBe('path-too-long');
    expect(codeOf(() => checkPathLength(b(`/x/${'a'.repeat(255)}`)))).toBeUndefined();
  });

  it('splits off the last component', () => {
    const [p1, n1] = splitParent(b('a/b/c'));
    expect([p1.toString(), n1.toString()]).toEqual(['a/b', 'c']);
    const [p2, n2] = splitParent(b('top'));
    expect([p2.length, n2.toString()]).toEqual([0, 'top']);
  });
});

describe('relToDisplay', () => {
  it('shows valid UTF-8 as itself and escapes the rest', () => {
    expect(relToDisplay(b('dir/日本語 file'))).toBe('dir/日本語 file');
    expect(relToDisplay(b([0x63, 0x61, 0x66, 0xe9]))).toBe('caf\\xe9');
    expect(relToDisplay(b([0xc4, 0xe3, 0xba, 0xc3]))).toBe('\\xc4\\xe3\\xba\\xc3');
    expect(relToDisplay(b('new\nline\ttab'))).toBe('new\\nline\\ttab');
    expect(relToDisplay(b('back\\slash'))).toBe('back\\\\slash');
    expect(relToDisplay(b([0x61, 0x00, 0x1b, 0x7f]))).toBe('a\\x00\\x1b\\x7f');
    // Overlong encoding, surrogate, truncated sequence: bytes, not characters.
    expect(relToDisplay(b([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
    expect(relToDisplay(b([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
    expect(relToDisplay(b([0xe6, 0x97]))).toBe('\\xe6\\x97');
    expect(relToDisplay(b('😀'))).toBe('😀');
  });
});

describe('classify', () => {
  it('keeps FsErrors and maps OS errors', () => {
    const own = new FsError('mount-lost', 'x');
    expect(classify(own)).toBe(own);
    const os = Object.assign(new Error('ENAMETOOLONG: name too long'), { code: 'ENAMETOOLONG' });
    expect(classify(os)).toMatchObject({ code: 'path-too-long', errno: 'ENAMETOOLONG' });
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    expect(classify(eacces, b('/p'))).toMatchObject({ code: 'io', errno: 'EACCES' });
    expect(classify(eacces, b('/p')).path?.toString()).toBe('/p');
    expect(classify('weird').code).toBe('io');
  });
});
