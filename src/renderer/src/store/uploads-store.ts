/**
 * The page's one store of the queue, fed by main's batches (≤ 10 a second) and read with
 * useSyncExternalStore. Rows are replaced, never mutated: an unchanged row keeps its object, so a
 * memoised row component skips it and a batch that touches 3 of 1,000 rows re-renders 3.
 */
import type {
  QueueTotals,
  UploadRow,
  UploadsBatch,
  UploadsSnapshot,
} from '../../../preload/contract'

export interface UploadsState {
  /** False until the first snapshot arrived. */
  ready: boolean
  seq: number
  ids: readonly string[]
  rows: ReadonlyMap<string, UploadRow>
  totals: QueueTotals
}

export const EMPTY_TOTALS: QueueTotals = {
  count: 0,
  active: 0,
  paused: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
  unsized: 0,
  bytesTotal: 0,
  bytesSent: 0,
  speed: 0,
  etaSeconds: null,
}

export class UploadsStore {
  private state: UploadsState = {
    ready: false,
    seq: 0,
    ids: [],
    rows: new Map(),
    totals: EMPTY_TOTALS,
  }
  private readonly listeners = new Set<() => void>()
  /** Batches that arrived before the snapshot (the subscription starts first, so none is lost). */
  private early: UploadsBatch[] = []
  /** Called when a batch is missing (should not happen over ordered IPC): reload the snapshot. */
  onGap: (() => void) | null = null

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getSnapshot = (): UploadsState => this.state

  private set(next: UploadsState): void {
    this.state = next
    for (const l of this.listeners) l()
  }

  load(snapshot: UploadsSnapshot): void {
    const rows = new Map(snapshot.rows.map((r) => [r.id, r]))
    this.state = {
      ready: true,
      seq: snapshot.seq,
      ids: snapshot.rows.map((r) => r.id),
      rows,
      totals: snapshot.totals,
    }
    const early = this.early.filter((b) => b.seq > snapshot.seq)
    this.early = []
    for (const b of early) this.applyInternal(b)
    this.set(this.state)
  }

  apply(batch: UploadsBatch): void {
    if (!this.state.ready) {
      this.early.push(batch)
      return
    }
    if (batch.seq <= this.state.seq) return
    if (batch.seq !== this.state.seq + 1 && !batch.reset) {
      this.onGap?.()
    }
    this.applyInternal(batch)
    this.set(this.state)
  }

  private applyInternal(batch: UploadsBatch): void {
    if (batch.seq <= this.state.seq) return
    const rows = batch.reset ? new Map<string, UploadRow>() : new Map(this.state.rows)
    let ids = batch.reset ? [] : this.state.ids
    const added: string[] = []
    for (const r of batch.upserts) {
      if (!rows.has(r.id)) added.push(r.id)
      rows.set(r.id, r)
    }
    for (const id of batch.removed) rows.delete(id)
    // A new ids array only when the order really changed: the list re-renders on identity.
    if (batch.order) {
      const next = batch.order.filter((id) => rows.has(id))
      if (next.length !== ids.length || next.some((id, i) => id !== ids[i])) ids = next
    } else if (batch.removed.length > 0 || added.length > 0) {
      const removed = new Set(batch.removed)
      ids = [...ids.filter((id) => !removed.has(id)), ...added]
    }
    this.state = { ready: true, seq: batch.seq, ids, rows, totals: batch.totals }
  }

  /**
   * Moves one row before/after another locally (the drag feels instant) and returns the new order
   * to send to main; main's next batch confirms it.
   */
  move(id: string, toIndex: number): string[] | null {
    const ids = [...this.state.ids]
    const from = ids.indexOf(id)
    if (from === -1) return null
    const to = Math.max(0, Math.min(ids.length - 1, toIndex))
    if (from === to) return null
    ids.splice(from, 1)
    ids.splice(to, 0, id)
    this.set({ ...this.state, ids })
    return ids
  }
}
