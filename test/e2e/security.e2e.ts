import { describe, expect, it } from 'vitest'
import { testServer } from '../support/s3'
import { useE2E } from './support/context'

const e2e = useE2E()

describe('the page is untrusted', () => {
  it('gets only the intent API: no Node, no Electron, no secrets', async () => {
    const app = await e2e.launch()
    const surface = await app.page.evaluate(() => ({
      keys: Object.keys(window.upreel).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      frozen: Object.isFrozen(window.upreel),
    }))
    expect(surface.require).toBe('undefined')
    expect(surface.process).toBe('undefined')
    expect(surface.frozen).toBe(true)
    expect(surface.keys).toContain('addDropped')
    expect(surface.keys).not.toContain('invoke')
    const everything = await app.page.evaluate(async () =>
      JSON.stringify([await window.upreel.getSettings(), await window.upreel.getAppInfo()]),
    )
    expect(everything).not.toContain(testServer().secretAccessKey)
  })

  it('main re-checks every request: bad payloads and paths are refused', async () => {
    const app = await e2e.launch()
    const results = await app.page.evaluate(async () => {
      const api = window.upreel as unknown as Record<string, (r?: unknown) => Promise<unknown>>
      const attempt = async (fn: () => Promise<unknown>) => {
        try {
          return { ok: true, value: await fn() }
        } catch (e) {
          return { ok: false, error: (e as Error).message }
        }
      }
      return {
        badId: await attempt(() => api.pause!({ id: 42 })),
        extraKey: await attempt(() => api.pause!({ id: 'x', path: '/etc/passwd' })),
        fileUrl: await attempt(() => api.openExternal!({ url: 'file:///etc/passwd' })),
        relative: await attempt(() => api.addDropped!({ paths: ['../../etc/passwd'] })),
        device: await attempt(() => api.addDropped!({ paths: ['/dev/urandom'] })),
        secretBack: await attempt(() => api.setSecret!({ name: 'secretAccessKey' })),
      }
    })
    expect(results.badId).toMatchObject({ ok: false })
    expect(results.extraKey).toMatchObject({ ok: false })
    expect(results.fileUrl).toMatchObject({ ok: false })
    expect(results.secretBack).toMatchObject({ ok: false })
    expect(results.relative).toMatchObject({
      ok: true,
      value: { added: 0, refused: [{ reason: 'Not a file on this computer.' }] },
    })
    expect(results.device).toMatchObject({
      ok: true,
      value: { added: 0, refused: [{ reason: 'Not a regular file or folder.' }] },
    })
  })

  it('a page from another origin with the same bridge is refused by the sender check', async () => {
    const app = await e2e.launch()
    await app.context.route('http://evil.test/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<h1>not Upreel</h1>' }),
    )
    await app.page.goto('http://evil.test/')
    const r = await app.page.evaluate(() =>
      window.upreel.getSettings().then(
        () => 'answered',
        (e: Error) => e.message,
      ),
    )
    expect(r).toMatch(/Refused/)
  })

  it('the CSP (sent as a header) blocks inline script in the page', async () => {
    const app = await e2e.launch()
    const [response] = await Promise.all([
      app.page.waitForResponse('http://upreel.test/index.html'),
      app.page.reload(),
    ])
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'")
    const r = await app.page.evaluate(
      () =>
        new Promise<{ inline: unknown; violated: string }>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) =>
            resolve({
              inline: (window as unknown as { __inline?: number }).__inline,
              violated: e.effectiveDirective,
            }),
          )
          const s = document.createElement('script')
          s.textContent = 'window.__inline = 1'
          document.head.append(s)
        }),
    )
    expect(r.inline).toBeUndefined()
    expect(r.violated).toBe('script-src-elem')
  })
})
