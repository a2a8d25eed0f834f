import { describe, expect, it } from 'vitest'
import { runProbe, runThumbnail } from '../../src/main/core/cli/media-commands'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } }
}

describe('media CLI usage errors (exit 2, nothing run)', () => {
  it('probe needs exactly one file and knows only --json', async () => {
    for (const argv of [[], ['a.mp4', 'b.mp4'], ['a.mp4', '--jsn']]) {
      const t = io()
      expect(await runProbe(argv, t.io)).toBe(2)
      expect(t.err.join('\n')).toMatch(/usage: upreel probe <file> \[--json\]/)
      expect(t.out).toEqual([])
    }
  })

  it('thumbnail needs --out and a sane --at and --max-side', async () => {
    const cases: [string[], RegExp][] = [
      [['a.mp4'], /--out is required/],
      [['a.mp4', '--out', 'a.jpg', '--at', 'soon'], /--at must be a number/],
      [['a.mp4', '--out', 'a.jpg', '--at', '-3'], /--at must be a number|argument/],
      [['a.mp4', '--out', 'a.jpg', '--max-side', '12.5'], /--max-side/],
      [['--out', 'a.jpg'], /exactly one file/],
    ]
    for (const [argv, message] of cases) {
      const t = io()
      expect(await runThumbnail(argv, t.io)).toBe(2)
      expect(t.err.join('\n')).toMatch(message)
    }
  })
})
