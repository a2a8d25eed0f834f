import { memo, useState } from 'react'
import type { UploadRow } from '../../../preload/contract'
import { api } from '../api'
import { attempt } from '../boot'
import {
  formatBytes,
  formatDuration,
  formatEta,
  formatResolution,
  formatSpeed,
  percent,
  stateLabel,
} from '../format'
import { useRow } from '../store/hooks'
import { Icon } from './Icon'

/** MIME type of a queue row being dragged (files from the desktop carry 'Files' instead). */
export const ROW_DRAG_TYPE = 'application/x-upreel-row'

const MOVING = new Set(['queued', 'preparing', 'uploading', 'retrying'])

interface Props {
  id: string
  index: number
  onMove(id: string, toIndex: number): void
}

function Actions({ row }: { row: UploadRow }): React.JSX.Element {
  const { id, name, state } = row
  return (
    <div className="row-actions">
      {MOVING.has(state) && (
        <button
          type="button"
          className="icon-button"
          aria-label={`Pause ${name}`}
          title="Pause"
          onClick={() => void attempt(() => api.pause({ id }))}
        >
          <Icon name="pause" />
        </button>
      )}
      {state === 'paused' && (
        <button
          type="button"
          className="icon-button"
          aria-label={`Resume ${name}`}
          title="Resume"
          onClick={() => void attempt(() => api.resume({ id }))}
        >
          <Icon name="play" />
        </button>
      )}
      {state === 'failed' && (
        <button
          type="button"
          className="icon-button"
          aria-label={`Retry ${name}`}
          title="Retry"
          onClick={() => void attempt(() => api.retry({ id }))}
        >
          <Icon name="retry" />
        </button>
      )}
      {state !== 'done' && state !== 'cancelled' && state !== 'completing' && (
        <button
          type="button"
          className="icon-button"
          aria-label={`Cancel ${name}`}
          title="Cancel (removes the partial upload from the server)"
          onClick={() => void attempt(() => api.cancel({ id }))}
        >
          <Icon name="cancel" />
        </button>
      )}
      {(state === 'done' || state === 'cancelled' || state === 'failed') && (
        <button
          type="button"
          className="icon-button"
          aria-label={`Remove ${name} from the list`}
          title="Remove from the list"
          onClick={() => void attempt(() => api.remove({ id }))}
        >
          <Icon name="trash" />
        </button>
      )}
    </div>
  )
}

function Thumbnail({ row }: { row: UploadRow }): React.JSX.Element {
  const [loaded, setLoaded] = useState<string | null>(null)
  return (
    <div className="thumb" data-testid="thumbnail-slot">
      {row.thumbnailUrl ? (
        <img
          src={row.thumbnailUrl}
          alt=""
          data-testid="thumbnail"
          data-loaded={loaded === row.thumbnailUrl ? 'true' : 'false'}
          onLoad={() => setLoaded(row.thumbnailUrl ?? null)}
          draggable={false}
        />
      ) : (
        <Icon name="video" size={22} />
      )}
    </div>
  )
}

function QueueRowView({ id, index, onMove }: Props): React.JSX.Element | null {
  const row = useRow(id)
  const [dropEdge, setDropEdge] = useState<'before' | 'after' | null>(null)
  if (!row) return null
  const pct = percent(row.state === 'done' ? row.size : row.bytesSent, row.size)
  const media = [
    formatDuration(row.media?.durationSec),
    formatResolution(row.media?.width, row.media?.height),
    row.media?.videoCodec,
  ]
    .filter(Boolean)
    .join(' · ')
  const live = row.state === 'uploading' || row.state === 'retrying'
  // The engine learns the size when it prepares the file: until then there is nothing to count.
  const sized = row.size > 0 || row.state === 'done'
  const detail = [
    sized
      ? `${formatBytes(row.state === 'done' ? row.size : row.bytesSent)} of ${formatBytes(row.size)}`
      : '',
    live ? formatSpeed(row.speed) : '',
    live ? formatEta(row.etaSeconds) : '',
  ]
    .filter(Boolean)
    .join(' · ')

  return (
    <div
      className={`queue-row state-${row.state}${dropEdge ? ` drop-${dropEdge}` : ''}`}
      data-testid="upload-row"
      data-id={row.id}
      data-name={row.name}
      data-state={row.state}
      data-bytes-sent={row.bytesSent}
      data-parts-done={row.partsDone}
      role="listitem"
      aria-label={`${row.name}, ${stateLabel(row.state, row.retryAttempt)}, ${Math.floor(pct)}%`}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes(ROW_DRAG_TYPE)) return
        e.preventDefault()
        e.dataTransfer.dropEffect = 'move'
        const box = e.currentTarget.getBoundingClientRect()
        setDropEdge(e.clientY < box.top + box.height / 2 ? 'before' : 'after')
      }}
      onDragLeave={() => setDropEdge(null)}
      onDrop={(e) => {
        const dragged = e.dataTransfer.getData(ROW_DRAG_TYPE)
        setDropEdge(null)
        if (!dragged) return
        e.preventDefault()
        e.stopPropagation()
        const box = e.currentTarget.getBoundingClientRect()
        const after = e.clientY >= box.top + box.height / 2
        onMove(dragged, after ? index + 1 : index)
      }}
    >
      <button
        type="button"
        className="grip"
        draggable
        aria-label={`Reorder ${row.name}: drag, or press Up or Down`}
        title="Drag to change the order (or use the arrow keys)"
        onDragStart={(e) => {
          e.dataTransfer.setData(ROW_DRAG_TYPE, row.id)
          e.dataTransfer.effectAllowed = 'move'
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
            e.preventDefault()
            onMove(row.id, e.key === 'ArrowUp' ? index - 1 : index + 1)
          }
        }}
      >
        <Icon name="grip" size={16} />
      </button>
      <Thumbnail row={row} />
      <div className="row-main">
        <div className="row-title">
          <span className="name" title={row.path}>
            {row.name}
          </span>
          {row.relativeDir && (
            <span className="folder" title={`In ${row.relativeDir}`}>
              <Icon name="folder" size={12} />
              <span className="folder-name">{row.relativeDir}</span>
            </span>
          )}
        </div>
        <div className="row-meta">
          {[sized ? formatBytes(row.size) : '', media, row.resumed ? 'resumed' : '']
            .filter(Boolean)
            .join(' · ')}
        </div>
        {row.error ? (
          <div
            className="row-error"
            role="alert"
            data-testid="row-error"
            title={[row.error.message, row.error.detail].filter(Boolean).join('\n\n')}
          >
            <Icon name="alert" size={14} /> {row.error.message}
          </div>
        ) : row.notice ? (
          <div className="row-notice" title={row.notice}>
            {row.notice}
          </div>
        ) : null}
      </div>
      <div className="row-progress">
        <div className="row-status">
          <span className={`badge badge-${row.state}`} data-testid="row-state">
            {stateLabel(row.state, row.retryAttempt)}
          </span>
          <span className="row-detail">{detail}</span>
        </div>
        <div
          className="bar"
          role="progressbar"
          aria-label={`${row.name} progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.floor(pct)}
        >
          <div className="bar-fill" style={{ width: `${pct}%` }} />
        </div>
      </div>
      <Actions row={row} />
    </div>
  )
}

export const QueueRow = memo(QueueRowView)
