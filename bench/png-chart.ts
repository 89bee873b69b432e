// A dependency-free PNG line chart for the soak run: one panel per series stacked vertically, each
// scaled from 0 to its own maximum, with a light grid (no text: the panels' names and units are
// written next to the image in docs/CONFORMANCE.md). node:zlib does the deflate; the PNG chunk CRC is
// computed here (zlib.crc32 needs Node 22).

import { deflateSync } from 'node:zlib';

export interface Series {
  name: string;
  values: number[];
  /** RGB */
  color: [number, number, number];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

class Canvas {
  readonly px: Buffer;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.px = Buffer.alloc(w * h * 3, 255);
  }
  set(x: number, y: number, [r, g, b]: [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (Math.round(y) * this.w + Math.round(x)) * 3;
    this.px[i] = r;
    this.px[i + 1] = g;
    this.px[i + 2] = b;
  }
  line(x0: number, y0: number, x1: number, y1: number, c: [number, number, number]): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.set(x, y, c);
      this.set(x, y + 1, c);
    }
  }
  png(): Buffer {
    const raw = Buffer.alloc((this.w * 3 + 1) * this.h);
    for (let y = 0; y < this.h; y++) {
      raw[y * (this.w * 3 + 1)] = 0; // filter: none
      this.px.copy(raw, y * (this.w * 3 + 1) + 1, y * this.w * 3, (y + 1) * this.w * 3);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.w, 0);
    ihdr.writeUInt32BE(this.h, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

/** Panels of `panelH` pixels, one per series, x = sample index; a grid line every 10 % of the max. */
export function lineChartPng(series: Series[], width = 900, panelH = 160): Buffer {
  const pad = 12;
  const c = new Canvas(width, series.length * panelH);
  const grid: [number, number, number] = [225, 225, 225];
  const axis: [number, number, number] = [120, 120, 120];
  series.forEach((s, p) => {
    const top = p * panelH + pad;
    const bottom = (p + 1) * panelH - pad;
    for (let g = 0; g <= 10; g++) {
      const y = bottom - ((bottom - top) * g) / 10;
      c.line(pad, y, width - pad, y, g === 0 ? axis : grid);
    }
    c.line(pad, top, pad, bottom, axis);
    const max = Math.max(1e-9, ...s.values);
    const n = s.values.length;
    const x = (i: number) => pad + ((width - 2 * pad) * i) / Math.max(1, n - 1);
    const y = (v: number) => bottom - ((bottom - top) * v) / max;
    for (let i = 1; i < n; i++) c.line(x(i - 1), y(s.values[i - 1]!), x(i), y(s.values[i]!), s.color);
  });
  return c.png();
}
