import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/main/core/cli/main'

/** The CLI in-process: usage errors are decided before any file is read or request sent. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: false,
    env,
  })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

const upload = ['upload', '/nonexistent/clip.mp4', '--no-media']

describe('CLI usage errors (exit 2)', () => {
  it('refuses a key template with an unknown variable, naming it', async () => {
    const r = await cli([...upload, '--bucket', 'b', '--key-template', 'videos/{id}/{filename}'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /--key-template "videos\/\{id\}\/\{filename\}": unknown variable \{id\}/,
    )
  })

  it('refuses a key template that would give every file the same key', async () => {
    const r = await cli([...upload, '--bucket', 'b', '--key-template', 'uploads/'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--key-template "uploads\/": .*every file would get the same key/)
    const t = await cli([
      ...upload,
      '--bucket',
      'b',
      '--thumbnail-key-template',
      'posters/{video}.jpg',
    ])
    expect(t.code).toBe(2)
    expect(t.stderr).toMatch(/--thumbnail-key-template .*unknown variable \{video\}/)
  })
})
