import { useVirtualizer } from '@tanstack/react-virtual'
import { useCallback, useRef } from 'react'
import { api } from '../api'
import { attempt } from '../boot'
import { appStore, uploadsStore, useIds } from '../store/hooks'
import { Icon } from './Icon'
import { QueueRow } from './QueueRow'

/** Row height in px (CSS .queue-row keeps to it): fixed, so the virtualiser needs no measuring. */
export const ROW_HEIGHT = 80

export function Queue(): React.JSX.Element {
  const ids = useIds()
  const scroller = useRef<HTMLDivElement>(null)
  // No React Compiler here: the virtualiser's functions are read fresh every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    // A few rows beyond the viewport keep fast scrolling free of blank rows.
    overscan: 8,
    getItemKey: (i) => ids[i] ?? i,
  })

  const onMove = useCallback((id: string, toIndex: number) => {
    const current = uploadsStore.getSnapshot().ids
    const from = current.indexOf(id)
    // Dropping below itself means "after the row that is now at toIndex - 1".
    const target = from < toIndex ? toIndex - 1 : toIndex
    const order = uploadsStore.move(id, target)
    if (order) void attempt(() => api.reorder({ ids: order }))
  }, [])

  if (ids.length === 0) {
    return (
      <div className="empty" data-testid="queue-empty">
        <Icon name="video" size={40} />
        <h2>Drop videos or folders here</h2>
        <p>They upload in the order of the list; drag rows to change it.</p>
        <div className="empty-actions">
          <button
            type="button"
            className="primary"
            onClick={() =>
              void attempt(() => api.addFilesDialog()).then((r) => appStore.reportAdd(r ?? null))
            }
          >
            <Icon name="plus" /> Add videos
          </button>
          <button
            type="button"
            onClick={() =>
              void attempt(() => api.addFolderDialog()).then((r) => appStore.reportAdd(r ?? null))
            }
          >
            <Icon name="folder" /> Add folder
          </button>
        </div>
      </div>
    )
  }

  return (
    <div
      className="queue"
      ref={scroller}
      data-testid="queue"
      data-count={ids.length}
      role="list"
      aria-label="Upload queue"
      tabIndex={-1}
    >
      <div className="queue-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {virtualizer.getVirtualItems().map((item) => {
          const id = ids[item.index]
          if (!id) return null
          return (
            <div
              key={item.key}
              className="queue-slot"
              style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px` }}
            >
              <QueueRow id={id} index={item.index} onMove={onMove} />
            </div>
          )
        })}
      </div>
    </div>
  )
}
