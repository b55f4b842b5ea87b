// The text forms of stored reports: CSV quoting (RFC 4180) and formula neutralizing, the display
// form of byte paths (escaping undecodable bytes, control and invisible characters, keeping the exact
// bytes), JSON and markup escaping for the HTML export, the fast index field reader, export names.
import { describe, expect, it } from 'vitest';
import { relToDisplay } from '../../agent/fs/relpath.ts';
import type { ProblemRecord } from '../../agent/protocol/report.ts';
import { ControllerError } from '../../electron/controller/errors.ts';
import { csvField, csvRow, neutralizeFormula, problemCsvRow } from '../../electron/reports/csv.ts';
import { canonicalPath, displayOfBytes, pathBytes } from '../../electron/reports/display.ts';
import { exportFileName, resolveExportFile } from '../../electron/reports/export-files.ts';
import { escapeHtml, jsonForScript } from '../../electron/reports/html-export.ts';
import { indexFieldsOfLine } from '../../electron/reports/stored-report.ts';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('CSV quoting', () => {
  it('leaves plain fields alone and quotes those with quotes, commas, CR or LF, doubling quotes', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('')).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('"')).toBe('""""');
    expect(csvField('日本語 файл')).toBe('日本語 файл');
  });

  it('ends every row with CRLF', () => {
    expect(csvRow(['a', 'b,c', ''])).toBe('a,"b,c",\r\n');
    expect(csvRow([])).toBe('\r\n');
  });

  it('keeps spreadsheets from running text as a formula', () => {
    for (const risky of ['=SUM(A1)', '+1', '-2', '@cmd', '\tx', '\rx']) expect(neutralizeFormula(risky)).toBe(`'${risky}`);
    for (const safe of ['a=b', 'x+1', 'file-1', '', "'quoted"]) expect(neutralizeFormula(safe)).toBe(safe);
  });

  it('writes a problem row with the display form and the exact bytes in base64', () => {
    const raw = bytes('dir/caf', [0xe9], '\n"x",=y');
    const record: ProblemRecord = { path: canonicalPath({ display: '', rawBase64: raw.toString('base64') }), kind: 'file', category: 'failed', code: 'EACCES', reason: '=cmd|x, "quoted"' };
    expect(problemCsvRow(record)).toBe(`"dir/caf\\xe9\\n""x"",=y",failed,file,EACCES,"'=cmd|x, ""quoted""",${raw.toString('base64')}\r\n`);
  });
});

describe('display form of byte paths', () => {
  it('shows valid UTF-8 as itself', () => {
    expect(displayOfBytes(Buffer.from('docs/报告 2026.pdf'))).toBe('docs/报告 2026.pdf');
    expect(displayOfBytes(Buffer.from('emoji 🚢'))).toBe('emoji 🚢');
  });

  it('escapes undecodable bytes, control characters and backslashes unambiguously', () => {
    expect(displayOfBytes(bytes('caf', [0xe9]))).toBe('caf\\xe9');
    expect(displayOfBytes(bytes([0xc4, 0xe3, 0xba, 0xc3]))).toBe('\\xc4\\xe3\\xba\\xc3'); // GBK 你好
    expect(displayOfBytes(Buffer.from('new\nline\ttab\rcr'))).toBe('new\\nline\\ttab\\rcr');
    expect(displayOfBytes(bytes('bell', [0x07], 'del', [0x7f], 'esc', [0x1b], '[31m'))).toBe('bell\\x07del\\x7fesc\\x1b[31m');
    expect(displayOfBytes(Buffer.from('back\\slash'))).toBe('back\\\\slash');
    expect(displayOfBytes(Buffer.from('\\xe9'))).toBe('\\\\xe9'); // a literal "\xe9" differs from the byte
    expect(displayOfBytes(bytes([0xc2, 0x85]))).toBe('\\xc2\\x85'); // C1 control NEL
    expect(displayOfBytes(Buffer.from('line\u2028sep'))).toBe('line\\xe2\\x80\\xa8sep');
    expect(displayOfBytes(bytes([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // an encoded surrogate is not UTF-8
  });

  it('escapes invisible direction and zero-width characters that could disguise a name', () => {
    expect(displayOfBytes(Buffer.from('invoice\u202Efdp.exe'))).toBe('invoice\\u{202e}fdp.exe');
    expect(displayOfBytes(Buffer.from('a\u200Bb\uFEFFc\u2066d'))).toBe('a\\u{200b}b\\u{feff}c\\u{2066}d');
  });

  it('agrees with the agent display form wherever that one has nothing invisible to escape', () => {
    for (const raw of [bytes('plain'), bytes('caf', [0xe9]), bytes('a\nb'), bytes([0xff, 0xfe, 0x00, 0x01])]) expect(displayOfBytes(raw)).toBe(relToDisplay(raw));
  });

  it('canonical paths keep the exact bytes and carry base64 exactly when the display differs', () => {
    const latin = bytes('caf', [0xe9]);
    expect(canonicalPath({ display: 'anything', rawBase64: latin.toString('base64') })).toEqual({ display: 'caf\\xe9', rawBase64: latin.toString('base64') });
    expect(canonicalPath({ display: 'plain/name.txt' })).toEqual({ display: 'plain/name.txt' });
    // A foreign report with a raw control character in its display text: escaped, bytes kept.
    const sneaky = canonicalPath({ display: 'evil\u001b[2Jname' });
    expect(sneaky.display).toBe('evil\\x1b[2Jname');
    expect(pathBytes(sneaky)).toEqual(Buffer.from('evil\u001b[2Jname'));
    expect(canonicalPath({ display: '.' })).toEqual({ display: '.' });
    expect(canonicalPath({ display: '', rawBase64: '' })).toEqual({ display: '.' });
    for (const p of [{ display: 'a\\b' }, { display: 'x', rawBase64: Buffer.from([0x80, 0x0a]).toString('base64') }]) {
      const once = canonicalPath(p);
      expect(canonicalPath(once)).toEqual(once);
      expect(pathBytes(once)).toEqual(pathBytes(p));
    }
  });
});

describe('HTML export escaping', () => {
  it('escapes markup characters in text', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&amp;`)).toBe('&#60;img src=x onerror=&#34;alert(&#39;1&#39;)&#34;&#62;&#38;amp;');
  });

  it('embeds JSON that cannot close its script element, and still parses to the same value', () => {
    const hostile = ['</script><script>alert(1)</script>', '<!-- x -->', 'a&b', 'line\u2028sep\u2029', '</SCRIPT >'];
    const text = jsonForScript(hostile);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(hostile);
  });
});

describe('index fields from a canonical record line', () => {
  it('reads display and category like JSON.parse does, with escapes and every optional field', () => {
    const records: ProblemRecord[] = [
      { path: { display: 'a/b.txt' }, kind: 'file', category: 'failed', code: 'EIO', reason: 'x' },
      { path: { display: 'caf\\xe9 "q"', rawBase64: 'Y2Fm6Q==' }, kind: 'fifo', category: 'skipped', code: 'fifo', reason: '' },
      { path: { display: '},"kind":"x","category":"extra' }, kind: '","category":"deleted', category: 'missing', code: 'missing', reason: '' },
      { path: { display: '日本\u0000' }, kind: 'k\\', category: 'would-copy', code: 'c', reason: 'r' },
    ];
    for (const r of records) expect(indexFieldsOfLine(JSON.stringify(r))).toEqual({ display: r.path.display, category: r.category });
    // Key order it does not expect: it falls back to a full parse.
    expect(indexFieldsOfLine('{"category":"changed","path":{"display":"z"},"kind":"file","code":"c","reason":""}')).toEqual({ display: 'z', category: 'changed' });
  });
});

describe('export file names', () => {
  it('are plain names built from the task, the finish time and the report id', () => {
    expect(exportFileName('nas a → nas b', '2026-12-01T23:01:16.629Z', 'e7182cd7-0f2e-4c51-9f7b-1d2c3b4a5e6f', 'csv')).toBe('ferry-report-nas_a_nas_b-20261201T230116Z-e7182cd7.csv');
    expect(exportFileName('../../etc', 'bad', 'x', 'html')).toBe('ferry-report-etc-unknown-x.html');
  });

  it('resolve only inside the exports folder, refusing path tricks with a clear error', () => {
    expect(resolveExportFile('/data', 'ferry-report-a.csv')).toBe('/data/exports/ferry-report-a.csv');
    for (const trick of ['../hosts.json', '..', 'a/b.csv', '/etc/passwd', '.hidden', 'a\\b', 'a\u0000b', '', 'x..y', `${'a'.repeat(201)}`]) {
      expect(() => resolveExportFile('/data', trick), trick).toThrow(ControllerError);
      expect(() => resolveExportFile('/data', trick)).toThrow(/not an export file name/);
    }
  });
});
