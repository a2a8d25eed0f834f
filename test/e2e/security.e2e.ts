import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ALICE_TOKEN, startTestBackend, type TestBackend } from '../support/backend'
import { testServer } from '../support/s3'
import { AppPage } from './pages/app-page'
import { QueuePage } from './pages/queue-page'
import { SettingsPage } from './pages/settings-page'
import { useE2E } from './support/context'
import { startRecorder, type Recorder } from './support/recorder'
import { smallVideo } from './support/videos'

const e2e = useE2E()
let backend: TestBackend | undefined
let elsewhere: Recorder | undefined
afterEach(async () => {
  await backend?.close()
  await elsewhere?.close()
  backend = elsewhere = undefined
})

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

  it('the page cannot make main send the saved token to another origin', async () => {
    backend = await startTestBackend({ bucket: e2e.bucket })
    elsewhere = await startRecorder()
    const dir = await e2e.tempDir()
    const first = await smallVideo(join(dir, 'first.mp4'))
    const second = await smallVideo(join(dir, 'second.mp4'), { seconds: 2 })
    const app = await e2e.launch({
      direct: false,
      settings: { mode: 'backend', backend: { url: backend.url } },
      secrets: { backendToken: ALICE_TOKEN },
    })
    const shell = new AppPage(app.page)
    const queue = new QueuePage(app.page)
    const evil = elsewhere.origin

    // 1. Test connection with a draft naming another address: no saved token goes along.
    const test = await app.page.evaluate(async (url) => {
      const { settings } = await window.upreel.getSettings()
      return window.upreel.testConnection({ draft: { ...settings, backend: { url, hookUrl: '' } } })
    }, `${evil}/api`)
    expect(test.ok).toBe(false)
    // 2. Saved with another address: uploads go there without the token (and fail: 401).
    await app.page.evaluate(async (url) => {
      const { settings } = await window.upreel.getSettings()
      await window.upreel.saveSettings({ settings: { ...settings, backend: { url, hookUrl: '' } } })
    }, evil)
    await shell.drop([first])
    await queue.waitForState('first.mp4', 'failed')
    // 3. Back to the real backend, the processing hook pointed elsewhere: the upload works (the
    //    token still goes to the backend it was typed for) and the hook gets no token.
    await app.page.evaluate(
      async ([url, hookUrl]) => {
        const { settings } = await window.upreel.getSettings()
        await window.upreel.saveSettings({ settings: { ...settings, backend: { url, hookUrl } } })
      },
      [backend.url, `${evil}/collect`] as const,
    )
    await shell.drop([second])
    await queue.waitForState('second.mp4', 'done')
    await expect
      .poll(() => elsewhere!.requests.some((q) => q.path === '/collect'), { timeout: 20_000 })
      .toBe(true)

    // The other origin was asked (health, multipart, the hook)… and never saw the token.
    const paths = elsewhere.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths).toEqual(
      expect.arrayContaining(['GET /api/health', 'POST /s3/multipart', 'POST /collect']),
    )
    for (const q of elsewhere.requests) {
      expect(JSON.stringify(q.headers), `${q.method} ${q.path}`).not.toContain(ALICE_TOKEN)
      expect(q.headers.authorization).toBeUndefined()
    }

    // The form says why: the saved token is for the backend's address only.
    await shell.open('Settings')
    await app.page.getByTestId('backend-url').fill(`${evil}/`)
    await app.page.getByTestId('backendToken-elsewhere').waitFor()
    expect(await app.page.getByTestId('backendToken-elsewhere').textContent()).toContain(
      backend.url,
    )
  })

  it('extra headers (a Cookie too) and the session cookies of the backend origin go to it, and only its', async () => {
    elsewhere = await startRecorder()
    const app = await e2e.launch({
      direct: false,
      settings: { mode: 'backend', backend: { url: elsewhere.origin } },
    })
    app.cookies.set(elsewhere.origin, [{ name: 'platform_session', value: 'c00kie' }])
    app.cookies.set('http://other.test', [{ name: 'not_theirs', value: 'x' }])
    const shell = new AppPage(app.page)
    await shell.open('Settings')
    await app.page
      .getByTestId('backend-headers')
      .fill('X-Team: studio-42\nX-Api-Key: k3y-s3cret\nCookie: typed_sid=t0ken')
    await new SettingsPage(app.page).save.click()
    await shell.toasts.filter({ hasText: 'Settings saved.' }).waitFor()
    // The page learns the names, never the values.
    const view = await app.page.evaluate(() => window.upreel.getSettings())
    expect(view.backendHeaderNames).toEqual(['X-Team', 'X-Api-Key', 'Cookie'])
    expect(JSON.stringify(view)).not.toMatch(/k3y-s3cret|t0ken/)
    // The empty box says the saved headers are used here… and not at another address.
    const headersBox = app.page.getByTestId('backend-headers')
    expect(await headersBox.getAttribute('placeholder')).toBe('•••••••• (type to replace)')
    await app.page.getByTestId('backend-url').fill('http://other.test/')
    await app.page.getByTestId('backendHeaders-elsewhere').waitFor()
    expect(await headersBox.getAttribute('placeholder')).toBe('')
    await app.page.getByTestId('backend-url').fill(elsewhere.origin)

    expect(await new SettingsPage(app.page).test()).toBe(false) // the recorder answers 401
    const dir = await e2e.tempDir()
    await shell.open('Queue')
    await shell.drop([await smallVideo(join(dir, 'cookie.mp4'))])
    await new QueuePage(app.page).waitForState('cookie.mp4', 'failed')
    const create = elsewhere.requests.find((q) => q.method === 'POST' && q.path === '/s3/multipart')
    const health = elsewhere.requests.find((q) => q.path === '/health')
    for (const q of [create, health]) {
      expect(q?.headers['x-team']).toBe('studio-42')
      expect(q?.headers['x-api-key']).toBe('k3y-s3cret')
      // The typed Cookie, then the session's for this URL (read on each request): one header,
      // this origin's cookie and not others'.
      expect(q?.headers.cookie).toBe('typed_sid=t0ken; platform_session=c00kie')
    }
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
