#!/usr/bin/env node
// Draws Upreel's app icon (a violet-to-pink rounded square with a white "up" arrow) as PNGs for
// electron-builder, with nothing but Node: a signed-distance rasteriser and zlib for the PNG.
// Output: build/icon.png (1024 px: macOS and Windows icons are made from it) and
// build/icons/<n>x<n>.png (the Linux set). Run: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** RGBA pixels → PNG bytes (8-bit, colour type 6, no filter). */
function png(size, rgba) {
  const raw = Buffer.alloc((size * 4 + 1) * size)
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8
  ihdr[9] = 6
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const clamp = (v) => Math.max(0, Math.min(1, v))

/** Distance from p to the segment a–b (all in unit coordinates). */
function segment(px, py, ax, ay, bx, by) {
  const dx = bx - ax
  const dy = by - ay
  const t = clamp(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy))
  return Math.hypot(px - ax - t * dx, py - ay - t * dy)
}

/** Signed distance to a rounded square centred at 0.5 (negative inside). */
function roundedSquare(px, py, half, radius) {
  const qx = Math.abs(px - 0.5) - half + radius
  const qy = Math.abs(py - 0.5) - half + radius
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius
}

function draw(size) {
  const out = Buffer.alloc(size * size * 4)
  const px1 = 1 / size
  // Small sizes get a fuller square and a bolder arrow so they stay legible.
  const half = size <= 32 ? 0.48 : 0.42
  const radius = size <= 32 ? 0.16 : 0.2
  const stroke = size <= 32 ? 0.075 : 0.055
  const from = [0x5b, 0x4c, 0xf0] // violet (the UI accent)
  const to = [0xe0, 0x50, 0x8a] // pink
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size
      const v = (y + 0.5) / size
      const shape = clamp(0.5 - roundedSquare(u, v, half, radius) / px1)
      if (shape === 0) continue
      const g = clamp((u + v) / 2)
      let r = from[0] + (to[0] - from[0]) * g
      let gr = from[1] + (to[1] - from[1]) * g
      let b = from[2] + (to[2] - from[2]) * g
      const d = Math.min(
        segment(u, v, 0.5, 0.7, 0.5, 0.31),
        segment(u, v, 0.5, 0.29, 0.34, 0.45),
        segment(u, v, 0.5, 0.29, 0.66, 0.45),
      )
      const arrow = clamp(0.5 - (d - stroke) / px1)
      r += (255 - r) * arrow
      gr += (255 - gr) * arrow
      b += (255 - b) * arrow
      const i = (y * size + x) * 4
      out[i] = Math.round(r)
      out[i + 1] = Math.round(gr)
      out[i + 2] = Math.round(b)
      out[i + 3] = Math.round(shape * 255)
    }
  }
  return png(size, out)
}

const write = (path, data) => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, data)
  console.log(`${path.slice(root.length + 1)}  ${data.length} bytes`)
}

write(join(root, 'build/icon.png'), draw(1024))
for (const n of [16, 32, 48, 64, 128, 256, 512])
  write(join(root, `build/icons/${n}x${n}.png`), draw(n))
