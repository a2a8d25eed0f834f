import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { useE2E } from './support/context'
import { smallVideo } from './support/videos'

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
        secretBack: await attempt(() => api.clearSecret!({ name: 'secretAccessKey', value: 1 })),
      }
    })
    expect(results.badId).toMatchObject({ ok: false })
    expect(results.extraKey).toMatchObject({ ok: false })
    expect(results.fileUrl).toMatchObject({ ok: false })
    expect(results.secretBack).toMatchObject({ ok: false })

    // A real drop of something that is not a regular file: main checks the path again.
    const shell = new AppPage(app.page)
    await shell.drop(['/dev/urandom'])
    await shell.toasts.filter({ hasText: 'urandom: Not a regular file or folder.' }).waitFor()
  })

  it('the page cannot name a path: a File it made itself, or a string, is refused', async () => {
    const dir = await e2e.tempDir()
    const clip = await smallVideo(join(dir, 'mine.mp4'))
    const app = await e2e.launch()
    const r = await app.page.evaluate(
      async ([path]) => {
        const api = window.upreel as unknown as { addDropped(x: unknown): Promise<unknown> }
        const attempt = async (x: unknown) => {
          try {
            return { ok: true, value: await api.addDropped(x) }
          } catch (e) {
            return { ok: false, error: (e as Error).message }
          }
        }
        return {
          // A File built in the page (its name a real path): Electron gives it no path.
          forged: await attempt([new File(['x'], path!), new File(['x'], '/etc/passwd')]),
          strings: await attempt([path, '/etc/passwd']),
          oldShape: await attempt({ paths: [path] }),
          keys: Object.keys(window.upreel),
        }
      },
      [clip] as const,
    )
    const notFromDisk = { reason: 'Not a file on this computer.' }
    expect(r.forged).toMatchObject({
      ok: true,
      value: { added: 0, refused: [notFromDisk, notFromDisk] },
    })
    expect(r.strings).toMatchObject({
      ok: true,
      value: { added: 0, refused: [notFromDisk, notFromDisk] },
    })
    expect(r.oldShape).toMatchObject({ ok: false })
    expect(r.keys).not.toContain('pathForFile')
    expect(await new QueuePage(app.page).rows.count()).toBe(0)
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
