import { useVirtualizer } from '@tanstack/react-virtual'
import { useEffect, useRef, useState } from 'react'
import type { HistoryRow } from '../../../preload/contract'
import { api } from '../api'
import { attempt } from '../boot'
import { formatBytes, formatDate } from '../format'
import { appStore, useTotals } from '../store/hooks'
import { Icon } from './Icon'

const HISTORY_ROW_HEIGHT = 64

export function HistoryView(): React.JSX.Element {
  const [rows, setRows] = useState<HistoryRow[] | null>(null)
  const [hours, setHours] = useState(24)
  const { done } = useTotals()
  const scroller = useRef<HTMLDivElement>(null)

  useEffect(() => {
    // Reload when an upload finishes while the view is open.
    void attempt(() => api.listHistory()).then((r) => setRows(r ?? []))
  }, [done])
  useEffect(() => {
    void attempt(() => api.getSettings()).then((v) => v && setHours(v.settings.shareLinkHours))
  }, [])

  const list = rows ?? []
  // No React Compiler here: the virtualiser's functions are read fresh every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: list.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => HISTORY_ROW_HEIGHT,
    overscan: 8,
  })

  const copied = (what: string) => appStore.toast({ kind: 'info', message: `${what} copied.` })

  return (
    <section className="history" aria-label="Finished uploads" data-testid="history">
      <div className="history-bar">
        <h2>Finished uploads</h2>
        <label className="inline-field">
          Share links valid for
          <select
            value={hours}
            onChange={(e) => setHours(Number(e.target.value))}
            aria-label="Share link lifetime"
          >
            {[1, 6, 24, 72, 168].map((h) => (
              <option key={h} value={h}>
                {h < 24 ? `${h} h` : `${h / 24} day${h === 24 ? '' : 's'}`}
              </option>
            ))}
          </select>
        </label>
      </div>
      {rows !== null && list.length === 0 && (
        <p className="muted" data-testid="history-empty">
          Uploaded videos appear here, with their links.
        </p>
      )}
      <div className="history-list" ref={scroller} role="list">
        <div className="queue-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            const h = list[item.index]!
            return (
              <div
                key={h.id}
                className="queue-slot"
                style={{
                  transform: `translateY(${item.start}px)`,
                  height: `${HISTORY_ROW_HEIGHT}px`,
                }}
              >
                <div
                  className="history-row"
                  role="listitem"
                  data-testid="history-row"
                  data-name={h.name}
                >
                  <div className="row-main">
                    <div className="row-title">
                      <span className="name" title={h.path}>
                        {h.name}
                      </span>
                    </div>
                    <div className="row-meta">
                      {formatBytes(h.size)} · {formatDate(h.completedAt)} · {h.destinationLabel} ·{' '}
                      <span className="key">{h.key}</span>
                    </div>
                  </div>
                  <div className="row-actions">
                    <button
                      type="button"
                      className="icon-button"
                      aria-label={`Copy the address of ${h.name}`}
                      title="Copy URL"
                      onClick={() =>
                        void attempt(() => api.copyObjectUrl({ id: h.id })).then(
                          (r) => r && copied('URL'),
                        )
                      }
                    >
                      <Icon name="copy" />
                    </button>
                    <button
                      type="button"
                      className="icon-button"
                      disabled={!h.canShare}
                      aria-label={`Copy a share link for ${h.name}`}
                      title={h.canShare ? `Copy a link valid ${hours} h` : 'Needs direct S3 access'}
                      onClick={() =>
                        void attempt(() => api.copyShareLink({ id: h.id, hours })).then(
                          (r) => r && copied(`Link valid ${hours} h`),
                        )
                      }
                    >
                      <Icon name="link" />
                    </button>
                    <button
                      type="button"
                      className="icon-button"
                      aria-label={`Show ${h.name} in its folder`}
                      title="Show the file"
                      onClick={() => void attempt(() => api.revealFile({ id: h.id }))}
                    >
                      <Icon name="reveal" />
                    </button>
                  </div>
                </div>
              </div>
            )
          })}
        </div>
      </div>
    </section>
  )
}
