/**
 * Zoom and pan of an SVG: its `g.viewport` child gets `translate(x,y) scale(k)`. Fit (the
 * first view) shows the whole drawing in the element's box; the wheel (and a trackpad's
 * pinch, which arrives as a wheel with Ctrl) zooms at the pointer, two fingers pinch,
 * dragging pans. The transform is written to the DOM directly: nothing re-renders.
 */
import { useEffect, useLayoutEffect, useMemo, useRef } from 'preact/hooks';

/** A rectangle in drawing coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the graph's buttons and selection call. */
export interface Viewport {
  zoomBy: (factor: number) => void;
  fit: () => void;
  /** Makes `r` visible and readable: unchanged when it already is, else centred (zoomed in to read it, or out when it does not fit). */
  show: (r: Rect) => void;
  /** Whether the last pointer press dragged (so it is not a click). */
  moved: () => boolean;
}

const MIN_K = 0.02;
const MAX_K = 4;
const PAD = 12;
/** Below this scale the graph hides its labels. */
const FAR_K = 0.3;

/** The viewport of `svg`, whose drawing is `width` × `height`. */
export function useViewport(svg: { current: SVGSVGElement | null }, width: number, height: number): Viewport {
  const t = useRef({ x: 0, y: 0, k: 1, auto: true, dragged: false });
  const size = useRef({ width, height });
  size.current = { width, height };

  const api = useMemo(() => {
    const box = () => {
      const el = svg.current;
      return { w: el?.clientWidth || 1, h: el?.clientHeight || 1 };
    };
    const apply = () => {
      const el = svg.current;
      const g = el?.querySelector('g.viewport');
      if (!el || !g) return;
      const { x, y, k } = t.current;
      g.setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
      el.setAttribute('data-scale', k.toFixed(4));
      // Far out, labels are too small to read: hiding them (CSS) saves the browser laying out thousands of texts.
      el.classList.toggle('far', k < FAR_K);
    };
    const zoomAt = (factor: number, px: number, py: number) => {
      const s = t.current;
      const k = Math.min(MAX_K, Math.max(MIN_K, s.k * factor));
      s.x = px - ((px - s.x) * k) / s.k;
      s.y = py - ((py - s.y) * k) / s.k;
      s.k = k;
      s.auto = false;
      apply();
    };
    const frame = (r: Rect, maxK: number) => {
      const { w, h } = box();
      const k = Math.max(MIN_K, Math.min(maxK, (w - 2 * PAD) / Math.max(1, r.width), (h - 2 * PAD) / Math.max(1, r.height)));
      t.current.k = k;
      t.current.x = (w - r.width * k) / 2 - r.x * k;
      t.current.y = Math.max(PAD, (h - r.height * k) / 2) - r.y * k;
      apply();
    };
    const vp: Viewport & { apply: () => void; zoomAt: typeof zoomAt; box: typeof box } = {
      apply,
      zoomAt,
      box,
      zoomBy: (f) => {
        const { w, h } = box();
        zoomAt(f, w / 2, h / 2);
      },
      fit: () => {
        frame({ x: 0, y: 0, ...size.current }, 1);
        t.current.auto = true;
      },
      show: (r) => {
        const { w, h } = box();
        const { x, y, k } = t.current;
        const inside = r.x * k + x >= 0 && r.y * k + y >= 0 && (r.x + r.width) * k + x <= w && (r.y + r.height) * k + y <= h;
        // Left alone when in view and readable; else framed (closer, up to 0.6, or farther out when it is big).
        if (inside && k >= FAR_K) return;
        frame({ x: r.x - 40, y: r.y - 40, width: r.width + 80, height: r.height + 80 }, Math.max(k, 0.6));
        t.current.auto = false;
      },
      moved: () => t.current.dragged,
    };
    return vp;
  }, []);

  // Fit at first, and again when the drawing changes size while the view is still the fitted one.
  useLayoutEffect(() => {
    if (t.current.auto) api.fit();
    else api.apply();
  }, [width, height]);

  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    const rel = (e: { clientX: number; clientY: number }) => {
      const r = el.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = rel(e);
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      api.zoomAt(Math.exp(-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.0015)), p.x, p.y);
    };
    const pointers = new Map<number, { x: number; y: number }>();
    let start: { x: number; y: number } | undefined;
    let pinch: number | undefined;
    const down = (e: PointerEvent) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      pointers.set(e.pointerId, rel(e));
      if (pointers.size === 1) {
        start = rel(e);
        t.current.dragged = false;
      }
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      }
    };
    const move = (e: PointerEvent) => {
      const prev = pointers.get(e.pointerId);
      if (!prev) return;
      const p = rel(e);
      pointers.set(e.pointerId, p);
      if (pointers.size === 2 && pinch) {
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a!.x - b!.x, a!.y - b!.y);
        api.zoomAt(d / pinch, (a!.x + b!.x) / 2, (a!.y + b!.y) / 2);
        pinch = d;
        t.current.dragged = true;
        return;
      }
      if (!t.current.dragged && start && Math.hypot(p.x - start.x, p.y - start.y) > 4) {
        t.current.dragged = true;
        el.setPointerCapture(e.pointerId);
        el.classList.add('panning');
      }
      if (t.current.dragged) {
        t.current.x += p.x - prev.x;
        t.current.y += p.y - prev.y;
        t.current.auto = false;
        api.apply();
      }
    };
    const up = (e: PointerEvent) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = undefined;
      if (pointers.size === 0) el.classList.remove('panning');
    };
    const resize = () => {
      if (t.current.auto) api.fit();
    };
    el.addEventListener('wheel', wheel, { passive: false });
    el.addEventListener('pointerdown', down);
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
    window.addEventListener('resize', resize);
    return () => {
      el.removeEventListener('wheel', wheel);
      el.removeEventListener('pointerdown', down);
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
      window.removeEventListener('resize', resize);
    };
  }, []);
  return api;
}
