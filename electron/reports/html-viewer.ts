/**
 * The inline stylesheet and script of the HTML report export (html-export.ts). They are constants so
 * the export's Content-Security-Policy can allow exactly them by hash and nothing else.
 *
 * The script reads the rows from the page's <script type="application/json" id="ferry-report-data">
 * block (never from the network), and shows them in a virtual list: only the rows in view (plus a
 * margin) exist in the DOM, so 100,000+ rows scroll smoothly. All text goes in through textContent and
 * title, never as markup. Before printing it builds a plain table of the filtered rows (up to
 * PRINT_MAX_ROWS) because a virtual list prints only what is on screen.
 * Plain ES2020 for any current browser, no dependencies; it must never fetch anything.
 */

export const VIEWER_CSS = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #5b6570; --line: #d8dde3; --band: #f5f7f9;
  --pass: #13703a; --pass-bg: #e3f5e9; --fail: #b3261e; --fail-bg: #fde8e6; --warn: #8a5a00; --accent: #1f5fbf; }
@media (prefers-color-scheme: dark) { :root { --bg: #15181c; --fg: #e6e9ec; --muted: #9aa4ae; --line: #2e343b; --band: #1d2126;
  --pass: #6fd394; --pass-bg: #143222; --fail: #ff8a80; --fail-bg: #3a1a18; --warn: #f0c05a; --accent: #8ab4f8; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 40px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", sans-serif; }
h1 { font-size: 15px; font-weight: 600; color: var(--muted); margin: 0 0 8px; letter-spacing: .02em; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.verdict { display: flex; align-items: baseline; gap: 18px; flex-wrap: wrap; padding: 18px 22px; border-radius: 10px; border: 2px solid; }
.verdict.pass { color: var(--pass); background: var(--pass-bg); border-color: var(--pass); }
.verdict.fail { color: var(--fail); background: var(--fail-bg); border-color: var(--fail); }
.verdict-word { font-size: 40px; font-weight: 800; letter-spacing: .04em; }
.verdict-text { font-size: 16px; font-weight: 500; }
.task-error { margin: 10px 0 0; color: var(--fail); font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 16px 0 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 0; padding: 0; list-style: none; }
.count { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--band); }
.count .n { display: block; font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.count .label { color: var(--muted); font-size: 13px; }
.count.bad .n { color: var(--fail); }
.count.note .n { color: var(--warn); }
.count .sub { display: block; color: var(--muted); font-size: 12px; }
.reasons { border-collapse: collapse; margin: 6px 0 0; }
.reasons td, .reasons th { border-bottom: 1px solid var(--line); padding: 3px 14px 3px 0; text-align: left; font-variant-numeric: tabular-nums; }
.controls { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 0 0 10px; }
.controls select, .controls input { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.controls input { min-width: 320px; }
.shown { color: var(--muted); }
.grid-head, .row { display: grid; grid-template-columns: 190px 70px minmax(220px, 3fr) 130px minmax(160px, 2fr); }
.grid-head { font-weight: 600; border-bottom: 2px solid var(--line); background: var(--band); }
.grid-head > div, .row > div { padding: 0 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.grid-head > div { padding: 6px 8px; }
.viewport { position: relative; height: 62vh; min-height: 320px; overflow: auto; border: 1px solid var(--line); border-top: 0; contain: strict; }
.spacer { width: 1px; }
.layer { position: absolute; top: 0; left: 0; right: 0; will-change: transform; }
.row { height: 28px; line-height: 28px; border-bottom: 1px solid var(--line); }
.row:nth-child(even) { background: var(--band); }
.path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono", monospace; font-size: 13px; }
.cat { font-weight: 600; }
.cat-failed, .cat-different, .cat-missing, .cat-changed { color: var(--fail); }
.cat-skipped, .cat-extra, .cat-deleted { color: var(--warn); }
.empty { padding: 24px; color: var(--muted); }
.note { color: var(--muted); font-size: 13px; }
.print-only { display: none; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
@page { margin: 14mm 12mm; }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --line: #bbb; --band: #f3f3f3; }
  body { padding: 0; font-size: 11px; }
  .verdict { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .verdict-word { font-size: 30px; }
  .controls, .grid-head, .viewport, .screen-only { display: none !important; }
  .print-only { display: block; }
  .counts { grid-template-columns: repeat(4, 1fr); gap: 6px; }
  .count { padding: 6px 8px; break-inside: avoid; }
  .count .n { font-size: 16px; }
  table.print-table { display: table; width: 100%; border-collapse: collapse; table-layout: fixed; }
  .print-table th, .print-table td { border-bottom: 1px solid var(--line); padding: 2px 4px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
  .print-table thead { display: table-header-group; }
  .print-table th:nth-child(1) { width: 15%; } .print-table th:nth-child(2) { width: 7%; } .print-table th:nth-child(3) { width: 46%; }
  .print-table th:nth-child(4) { width: 10%; } .print-table th:nth-child(5) { width: 22%; }
  .print-table .path { font-size: 10px; }
  .print-table tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
`;

export const PRINT_MAX_ROWS = 5000;

export const VIEWER_SCRIPT = `
(function () {
  'use strict';
  var ROW_HEIGHT = 28;
  var OVERSCAN = 12;
  var PRINT_MAX_ROWS = ${PRINT_MAX_ROWS};
  var LABELS = { skipped: 'Skipped', failed: 'Failed', changed: 'Changed while read', different: 'Different',
    missing: 'Missing', extra: 'Extra', deleted: 'Deleted', 'would-copy': 'Would copy', 'would-delete': 'Would delete' };
  var data = JSON.parse(document.getElementById('ferry-report-data').textContent);
  var categories = data.categories;
  var rows = data.rows;
  var lowered = new Array(rows.length);
  for (var i = 0; i < rows.length; i++) lowered[i] = rows[i][0].toLowerCase();
  var view = null;
  var viewport = document.getElementById('viewport');
  var spacer = document.getElementById('spacer');
  var layer = document.getElementById('layer');
  var select = document.getElementById('filter-category');
  var search = document.getElementById('filter-search');
  var shown = document.getElementById('shown-count');
  var empty = document.getElementById('empty');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function label(cat) { return LABELS[cat] || cat; }
  function count() { return view ? view.length : rows.length; }
  function rowAt(k) { return rows[view ? view[k] : k]; }
  function fmt(n) { return n.toLocaleString('en-US'); }

  var counts = new Array(categories.length).fill(0);
  for (var r = 0; r < rows.length; r++) counts[rows[r][1]]++;
  select.appendChild(new Option('All categories (' + fmt(rows.length) + ')', ''));
  for (var c = 0; c < categories.length; c++) {
    if (counts[c] > 0) select.appendChild(new Option(label(categories[c]) + ' (' + fmt(counts[c]) + ')', String(c)));
  }

  function buildRow(k) {
    var rec = rowAt(k);
    var cat = categories[rec[1]];
    var row = el('div', 'row');
    row.setAttribute('role', 'row');
    row.setAttribute('data-testid', 'problem-row');
    row.setAttribute('aria-rowindex', String(k + 2));
    var cells = [el('div', 'cat cat-' + cat, label(cat)), el('div', '', rec[2]), el('div', 'path', rec[0]), el('div', '', rec[3]), el('div', '', rec[4])];
    cells[2].title = rec[5] ? rec[0] + '\\nexact bytes (base64): ' + rec[5] : rec[0];
    cells[4].title = rec[4];
    for (var j = 0; j < cells.length; j++) { cells[j].setAttribute('role', 'cell'); row.appendChild(cells[j]); }
    return row;
  }

  var scheduled = false;
  function render() {
    scheduled = false;
    var n = count();
    spacer.style.height = n * ROW_HEIGHT + 'px';
    var top = viewport.scrollTop;
    var first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    var last = Math.min(n, Math.ceil((top + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    layer.style.transform = 'translateY(' + first * ROW_HEIGHT + 'px)';
    var frag = document.createDocumentFragment();
    for (var k = first; k < last; k++) frag.appendChild(buildRow(k));
    layer.replaceChildren(frag);
    empty.hidden = n !== 0;
    shown.textContent = n === rows.length ? fmt(n) + ' problem entries' : fmt(n) + ' of ' + fmt(rows.length) + ' problem entries';
  }
  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
  }

  function applyFilter() {
    var cat = select.value === '' ? -1 : Number(select.value);
    var needle = search.value.toLowerCase();
    if (cat === -1 && needle === '') view = null;
    else {
      var out = [];
      for (var i = 0; i < rows.length; i++) {
        if (cat !== -1 && rows[i][1] !== cat) continue;
        if (needle !== '' && lowered[i].indexOf(needle) === -1) continue;
        out.push(i);
      }
      view = out;
    }
    viewport.scrollTop = 0;
    render();
  }

  var timer = 0;
  search.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(applyFilter, 120); });
  search.addEventListener('keydown', function (e) { if (e.key === 'Enter') { clearTimeout(timer); applyFilter(); } });
  select.addEventListener('change', applyFilter);
  viewport.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);

  function buildPrintTable() {
    var body = document.getElementById('print-rows');
    var n = Math.min(count(), PRINT_MAX_ROWS);
    var frag = document.createDocumentFragment();
    for (var k = 0; k < n; k++) {
      var rec = rowAt(k);
      var tr = el('tr');
      tr.appendChild(el('td', 'cat cat-' + categories[rec[1]], label(categories[rec[1]])));
      tr.appendChild(el('td', '', rec[2]));
      tr.appendChild(el('td', 'path', rec[0]));
      tr.appendChild(el('td', '', rec[3]));
      tr.appendChild(el('td', '', rec[4]));
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    var filtered = select.value !== '' || search.value !== '';
    document.getElementById('print-note').textContent = (count() > n ? 'Printed the first ' + fmt(n) + ' of ' + fmt(count()) + ' entries' : 'Printed all ' + fmt(n) + ' entries')
      + (filtered ? ' matching the filter' + (search.value ? ' "' + search.value + '"' : '') + '.' : '.') + (count() > n ? ' The complete list is in the CSV or JSON export.' : '');
  }
  window.addEventListener('beforeprint', buildPrintTable);
  var printQuery = window.matchMedia('print');
  if (printQuery.addEventListener) printQuery.addEventListener('change', function (e) { if (e.matches) buildPrintTable(); });

  document.documentElement.setAttribute('data-ready', 'true');
  render();
})();
`;
