import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/main/core/cli/main'

let stateDir: string
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'upreel-cli-usage-'))
})
afterAll(() => rm(stateDir, { recursive: true, force: true }))

/** The CLI in-process: usage errors are decided before any file is read or request sent. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: false,
    // Should a check be missing, the command runs on a throwaway state dir, not the user's.
    env: { UPREEL_STATE_DIR: stateDir, ...env },
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

  it('refuses --hook and --header with a bucket: they would be silently dropped', async () => {
    const hook = await cli([...upload, '--bucket', 'b', '--hook', 'https://api.example/done'])
    expect(hook.code).toBe(2)
    expect(hook.stderr).toMatch(/--hook goes with --backend/)
    const header = await cli([...upload, '--bucket', 'b', '--header', 'Authorization: Bearer x'])
    expect(header.code).toBe(2)
    expect(header.stderr).toMatch(/--header goes with --backend/)
    const fromEnv = await cli([...upload, '--header', 'X-A: 1'], { AWS_S3_BUCKET: 'b' })
    expect(fromEnv.code).toBe(2)
    expect(fromEnv.stderr).toMatch(
      /--header goes with --backend: uploads to a bucket \(from the environment\)/,
    )
    const endpoint = await cli([...upload, '--backend', 'http://api', '--endpoint', 'http://s3'])
    expect(endpoint.code).toBe(2)
    expect(endpoint.stderr).toMatch(/--endpoint is for --bucket/)
  })

  it('checks --header syntax, without echoing the value', async () => {
    const bad = async (h: string) => {
      const r = await cli([...upload, '--backend', 'http://api.example', '--header', h])
      expect(r.code, h).toBe(2)
      expect(r.stderr, h).not.toContain('s3cr3t')
      return r.stderr
    }
    expect(await bad('Bearer s3cr3t')).toMatch(/--header must look like 'Name: value'/)
    expect(await bad('X Token: s3cr3t')).toMatch(/"X Token" is not a header name/)
    expect(await bad('Authoriz(ation): s3cr3t')).toMatch(/is not a header name/)
    expect(await bad('X-Token: s3cr3t\r\nX-Evil: 1')).toMatch(
      /X-Token: the value contains a line break/,
    )
    expect(await bad('X-Token: s3cr3t✓')).toMatch(
      /X-Token: the value has characters outside Latin-1/,
    )
    const token = await cli([...upload, '--backend', 'http://api.example'], {
      UPREEL_BACKEND_TOKEN: 's3cr3t\n',
    })
    expect(token.code).toBe(2)
    expect(token.stderr).toMatch(/UPREEL_BACKEND_TOKEN contains a line break/)
  })

  it('checks --hook-header: its syntax, and that there is a hook to send it to', async () => {
    const bucket = await cli([...upload, '--bucket', 'b', '--hook-header', 'X-A: 1'])
    expect(bucket.code).toBe(2)
    expect(bucket.stderr).toMatch(/--hook-header goes with --backend/)
    const noHook = await cli([...upload, '--backend', 'http://api', '--hook-header', 'X-A: 1'])
    expect(noHook.code).toBe(2)
    expect(noHook.stderr).toMatch(/--hook-header goes with --hook \(or UPREEL_HOOK_URL\)/)
    const bad = await cli([
      ...upload,
      '--backend',
      'http://api',
      '--hook',
      'http://hook',
      '--hook-header',
      'X-Token: s3cr3t\r\nX-Evil: 1',
    ])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--hook-header X-Token: the value contains a line break/)
    expect(bad.stderr).not.toContain('s3cr3t')
    // Resume with no destination flags: the hooks are the journaled ones, checked up front too.
    const resume = await cli(['resume', '--state-dir', '/nonexistent/state', '--hook-header', 'x'])
    expect(resume.code).toBe(2)
    expect(resume.stderr).toMatch(/--hook-header must look like 'Name: value'/)
  })

  it('cleanup --server needs --prefix when the key template starts with a variable', async () => {
    const r = await cli([
      'cleanup',
      '--older-than',
      '7d',
      '--server',
      '--bucket',
      'b',
      '--key-template',
      '{date}/{uuid}/{filename}',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cleanup --server needs --prefix: the key template "\{date\}/)
    expect(r.stderr).toMatch(/other tools' uploads/)
  })

  it('resume without destination flags refuses --hook (each upload keeps its own)', async () => {
    // Refused before the state dir is even read.
    const r = await cli(['resume', '--state-dir', '/nonexistent/state', '--hook', 'http://h'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--hook goes with --backend/)
  })
})
