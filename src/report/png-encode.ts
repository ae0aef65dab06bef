// PNG encoding of an 8-bit raster (greyscale or RGB), the same bytes in Node and in the page: chunks
// written here, the image data deflated by fflate (zlib stream, level 9).
import { zlibSync } from 'fflate';
import type { RasterImage } from './raster.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it, table-driven. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** length, type, data, CRC of type + data */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Each row is prefixed by its filter type; per row the filter (None, Sub or Up) with the smallest sum of
 * |filtered byte as signed| is taken, libpng's heuristic. Upscaled images repeat rows, which Up turns into zeros.
 */
function filteredRows(r: RasterImage): Uint8Array {
  const stride = r.width * r.channels;
  const out = new Uint8Array(r.height * (stride + 1));
  const candidate = [new Uint8Array(stride), new Uint8Array(stride), new Uint8Array(stride)];
  for (let y = 0; y < r.height; y++) {
    const row = r.data.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? r.data.subarray((y - 1) * stride, y * stride) : null;
    let best = 0, bestCost = Infinity;
    for (let f = 0; f < 3; f++) {
      const c = candidate[f]!;
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const left = i >= r.channels ? row[i - r.channels]! : 0;
        const up = above ? above[i]! : 0;
        const v = (row[i]! - (f === 1 ? left : f === 2 ? up : 0)) & 0xff;
        c[i] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < bestCost) (best = f), (bestCost = cost);
    }
    out[y * (stride + 1)] = best; // filter types: 0 None, 1 Sub, 2 Up
    out.set(candidate[best]!, y * (stride + 1) + 1);
  }
  return out;
}

/** The PNG file of a raster: 8-bit greyscale (1 channel) or RGB (3 channels), not interlaced. */
export function encodePng(r: RasterImage): Uint8Array {
  if (r.data.length !== r.width * r.height * r.channels) throw new RangeError(`encodePng: ${r.data.length} bytes for ${r.width}x${r.height}x${r.channels}`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, r.width);
  view.setUint32(4, r.height);
  header[8] = 8; // bit depth
  header[9] = r.channels === 1 ? 0 : 2; // colour type: greyscale or RGB
  // compression 0 (deflate), filter method 0, interlace 0
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', zlibSync(filteredRows(r), { level: 9 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
