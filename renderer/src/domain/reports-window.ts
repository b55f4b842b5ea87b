/**
 * Visible-window maths of a virtual table with a fixed row height: which rows to render for a
 * scroll position (plus an overscan), where to draw them, and where to scroll to reveal a row.
 *
 * Browsers cap an element's height (Chromium near 33.5 million px), so past MAX_SCROLL_HEIGHT
 * the scrollable height is compressed: the scrollbar maps linearly onto the real rows, and the
 * rendered rows are drawn at the position that keeps them under the viewport. Below the cap
 * the mapping is 1:1. Pure functions; no DOM.
 */

/** Well below every browser's element-height limit. */
export const MAX_SCROLL_HEIGHT = 8_000_000;

export interface Viewport {
  scrollTop: number;
  /** Height of the scrolling area's visible part, in px. */
  height: number;
  rowHeight: number;
  total: number;
  overscan: number;
  maxScrollHeight?: number;
}

export interface RowWindow {
  /** First row to render (inclusive). */
  first: number;
  /** Row after the last one to render (exclusive); first === last when there is nothing. */
  last: number;
  /** Top of row `first` in the scrolling content's coordinates, px. */
  top: number;
  /** Height of the scrolling content, px. */
  scrollHeight: number;
}

function geometry(v: Pick<Viewport, 'height' | 'rowHeight' | 'total' | 'maxScrollHeight'>) {
  const real = Math.max(0, v.total) * v.rowHeight;
  const scrollHeight = Math.min(real, v.maxScrollHeight ?? MAX_SCROLL_HEIGHT);
  const realRange = Math.max(0, real - v.height);
  const scrollRange = Math.max(0, scrollHeight - v.height);
  /** Real px per scrolled px (1 unless compressed). */
  const ratio = scrollRange > 0 && realRange > scrollRange ? realRange / scrollRange : 1;
  return { real, scrollHeight, realRange, scrollRange, ratio };
}

/** The real offset (px from row 0's top) shown at the viewport's top for a scroll position. */
export function realOffset(v: Viewport): number {
  const g = geometry(v);
  return Math.min(g.realRange, Math.max(0, v.scrollTop) * g.ratio);
}

export function visibleWindow(v: Viewport): RowWindow {
  const g = geometry(v);
  if (v.total <= 0 || v.rowHeight <= 0) return { first: 0, last: 0, top: 0, scrollHeight: 0 };
  const scrollTop = Math.min(Math.max(0, v.scrollTop), g.scrollRange);
  const offset = realOffset({ ...v, scrollTop });
  const firstVisible = Math.min(v.total - 1, Math.floor(offset / v.rowHeight));
  const lastVisible = Math.min(v.total, Math.ceil((offset + v.height) / v.rowHeight));
  const first = Math.max(0, firstVisible - v.overscan);
  const last = Math.min(v.total, Math.max(lastVisible, firstVisible + 1) + v.overscan);
  // Row i sits (i * rowHeight - offset) below the viewport's top, and the viewport's top is at scrollTop.
  const top = scrollTop + first * v.rowHeight - offset;
  return { first, last, top, scrollHeight: g.scrollHeight };
}

/** Whole rows that fit in the viewport (at least one): the step of Page Up / Page Down. */
export function rowsPerPage(height: number, rowHeight: number): number {
  return Math.max(1, Math.floor(height / rowHeight));
}

/**
 * The scroll position that shows row `index` whole, moving as little as possible: unchanged
 * when it is already in view, else the row at the top (moving up) or at the bottom (moving down).
 */
export function scrollTopToReveal(v: Viewport, index: number): number {
  const g = geometry(v);
  const row = Math.min(Math.max(0, index), Math.max(0, v.total - 1));
  const offset = realOffset(v);
  const rowTop = row * v.rowHeight;
  const rowBottom = rowTop + v.rowHeight;
  let target: number;
  if (rowTop < offset) target = rowTop;
  else if (rowBottom > offset + v.height) target = rowBottom - v.height;
  else return Math.min(Math.max(0, v.scrollTop), g.scrollRange);
  return Math.min(g.scrollRange, Math.max(0, target / g.ratio));
}

/** The row a key moves the active row to, or null for keys the table does not handle. */
export function rowAfterKey(key: string, current: number, total: number, pageRows: number): number | null {
  if (total <= 0) return null;
  const clamp = (i: number) => Math.min(total - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return clamp(current + 1);
    case 'ArrowUp':
      return clamp(current - 1);
    case 'PageDown':
      return clamp(current + pageRows);
    case 'PageUp':
      return clamp(current - pageRows);
    case 'Home':
      return 0;
    case 'End':
      return total - 1;
    default:
      return null;
  }
}
