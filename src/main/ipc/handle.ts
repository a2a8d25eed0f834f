/**
 * Typed request/response wrappers over an ipcMain-like object. This file never imports Electron:
 * index.ts hands it the real `ipcMain` (see ./electron-ipc.ts) and the e2e harness a Node double,
 * so the same sender check and schema parsing run in both.
 */
import { z } from 'zod'
import {
  events,
  invoke,
  type EventName,
  type EventPayloads,
  type InvokeName,
  type InvokeResults,
  type ParsedRequest,
} from '../../preload/contract'

/** The part of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  url: string
  /** null for a top-level frame. */
  parent: unknown
}

/** The part of Electron's IpcMainInvokeEvent the sender check reads. */
export interface InvokeEventLike {
  senderFrame: FrameLike | null
  sender: unknown
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

/**
 * Who may call: the app window's main frame showing our own page. A frame we did not create
 * (an iframe, a page navigated elsewhere, a second window) is refused before parsing.
 */
export interface SenderPolicy {
  isTrusted(event: InvokeEventLike): boolean
}

/** The part of a BrowserWindow the sender check reads. */
export interface WindowLike {
  webContents: unknown
  isDestroyed(): boolean
}

/**
 * Trusted = sent by the top-level frame of our one window while it shows our page. Frames inside
 * it (iframes are blocked by CSP anyway), other windows, and our window after a navigation (also
 * blocked) are refused.
 */
export function mainFramePolicy(
  window: () => WindowLike | null,
  isAppUrl: (url: string) => boolean,
): SenderPolicy {
  return {
    isTrusted(event) {
      const win = window()
      const frame = event.senderFrame
      if (!win || win.isDestroyed() || !frame) return false
      return event.sender === win.webContents && frame.parent === null && isAppUrl(frame.url)
    },
  }
}

export class IpcRefused extends Error {
  override name = 'IpcRefused'
}

export type Handler<K extends InvokeName> = (
  request: ParsedRequest<K>,
) => Promise<InvokeResults[K]> | InvokeResults[K]

export type Handlers = { [K in InvokeName]: Handler<K> }

/** A message safe to show: handlers throw plain-words errors; everything else is generic. */
function rendererError(e: unknown): Error {
  if (e instanceof z.ZodError) {
    return new Error(`Invalid request: ${e.issues.map((i) => i.message).join('; ')}`)
  }
  if (e instanceof Error) return new Error(e.message)
  return new Error('Something went wrong in Upreel.')
}

export class IpcRouter {
  private readonly registered: string[] = []

  constructor(
    private readonly ipcMain: IpcMainLike,
    private readonly policy: SenderPolicy,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** Registers one contract channel: sender check, then zod parse, then `fn`. */
  handle<K extends InvokeName>(name: K, fn: Handler<K>): void {
    const { channel, request } = invoke[name]
    const schema = request as unknown as z.ZodType<ParsedRequest<K>>
    this.ipcMain.handle(channel, async (event, ...args) => {
      if (!this.policy.isTrusted(event)) {
        this.log(`ipc: refused ${channel} from ${event.senderFrame?.url ?? 'unknown frame'}`)
        throw new IpcRefused('Refused: not from the Upreel window.')
      }
      // Exactly one argument (or none): extra arguments are a malformed call, not ignored input.
      if (args.length > 1) throw rendererError(new Error(`${channel} takes one argument`))
      try {
        const parsed = schema.parse(args[0])
        return await fn(parsed)
      } catch (e) {
        throw rendererError(e)
      }
    })
    this.registered.push(channel)
  }

  /** Registers every channel of the contract; a missing handler is a type error. */
  handleAll(handlers: Handlers): void {
    for (const name of Object.keys(invoke) as InvokeName[]) {
      this.handle(name, handlers[name] as Handler<typeof name>)
    }
  }

  dispose(): void {
    for (const channel of this.registered.splice(0)) this.ipcMain.removeHandler(channel)
  }
}

/** Anything that can deliver a one-way message to the page (webContents.send). */
export interface EventSink {
  send(channel: string, payload: unknown): void
}

/** Typed one-way events: the only way main talks to the page unprompted. */
export function emitter(sink: () => EventSink | null) {
  return function emit<E extends EventName>(name: E, payload: EventPayloads[E]): void {
    sink()?.send(events[name], payload)
  }
}

export type Emit = ReturnType<typeof emitter>
