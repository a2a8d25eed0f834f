/**
 * `node --import tsx test/support/probe-child.ts <file> <ffprobe|ffmpeg>`: probe() in a process of
 * its own, so a test can run it as another user (setpriv). Prints `{code, message}` of the failure,
 * or `{ok: true}`.
 */
import { resolveMediaTools } from '../../src/main/core/media/ffmpeg-path'
import { probe } from '../../src/main/core/media/probe'

const [file, route] = process.argv.slice(2)
const machine = resolveMediaTools()
const tools =
  route === 'ffmpeg' ? { ffmpeg: machine.ffmpeg, ffmpegSource: machine.ffmpegSource } : machine
probe(file!, undefined, { tools }).then(
  () => console.log(JSON.stringify({ ok: true })),
  (e: { code?: string; message?: string }) =>
    console.log(JSON.stringify({ code: e.code, message: e.message })),
)
