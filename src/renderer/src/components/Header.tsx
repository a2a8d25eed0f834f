import type { View } from '../../../preload/contract'
import { api } from '../api'
import { attempt } from '../boot'
import { formatBytes, formatEta, formatSpeed, percent } from '../format'
import { appStore, useApp, useTotals } from '../store/hooks'
import { Icon } from './Icon'

const TABS: { view: View; label: string }[] = [
  { view: 'queue', label: 'Queue' },
  { view: 'history', label: 'History' },
  { view: 'settings', label: 'Settings' },
]

export function Header(): React.JSX.Element {
  const app = useApp()
  const t = useTotals()
  // By bytes once every size is known; by files while some are not prepared yet.
  const pct =
    t.unsized > 0 ? percent(t.done, t.count - t.cancelled) : percent(t.bytesSent, t.bytesTotal)
  const summary =
    t.count === 0
      ? 'Nothing queued'
      : [
          `${t.done} of ${t.count - t.cancelled} uploaded`,
          t.unsized > 0
            ? t.bytesSent > 0
              ? `${formatBytes(t.bytesSent)} sent`
              : ''
            : t.bytesTotal > 0
              ? `${formatBytes(t.bytesSent)} of ${formatBytes(t.bytesTotal)}`
              : '',
          t.active ? formatSpeed(t.speed) : '',
          t.active ? formatEta(t.etaSeconds) : '',
          t.failed ? `${t.failed} failed` : '',
        ]
          .filter(Boolean)
          .join(' · ')

  return (
    <header className="header">
      <div className="header-top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            <Icon name="up" size={18} />
          </span>
          <span className="brand-name">Upreel</span>
          {app.destination && (
            <span className="destination" data-testid="destination" title="Where uploads go">
              {app.destination.label}
              {app.destination.fromEnv && ' (from environment)'}
            </span>
          )}
        </div>
        <nav className="tabs" role="tablist" aria-label="Views">
          {TABS.map((tab) => (
            <button
              key={tab.view}
              type="button"
              role="tab"
              id={`tab-${tab.view}`}
              aria-selected={app.view === tab.view}
              aria-controls="main-panel"
              className={app.view === tab.view ? 'tab active' : 'tab'}
              onClick={() => appStore.update({ view: tab.view })}
            >
              {tab.label}
            </button>
          ))}
        </nav>
        <div className="header-actions">
          <button
            type="button"
            className="primary"
            data-testid="add-files"
            onClick={() =>
              void attempt(() => api.addFilesDialog()).then((r) => appStore.reportAdd(r ?? null))
            }
          >
            <Icon name="plus" /> Add videos
          </button>
          <button
            type="button"
            data-testid="add-folder"
            onClick={() =>
              void attempt(() => api.addFolderDialog()).then((r) => appStore.reportAdd(r ?? null))
            }
          >
            <Icon name="folder" /> Add folder
          </button>
        </div>
      </div>
      <div
        className="overall"
        data-testid="overall"
        data-active={t.active}
        data-done={t.done}
        data-failed={t.failed}
        data-paused={t.paused}
        data-count={t.count}
      >
        <div className="overall-text" aria-live="off">
          {summary}
        </div>
        <div
          className="bar overall-bar"
          role="progressbar"
          aria-label="All uploads"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.floor(pct)}
        >
          <div className="bar-fill" style={{ width: `${pct}%` }} />
        </div>
        <div className="overall-actions">
          <button
            type="button"
            data-testid="pause-all"
            disabled={t.active === 0}
            onClick={() => void attempt(() => api.pauseAll())}
          >
            <Icon name="pause" /> Pause all
          </button>
          <button
            type="button"
            data-testid="resume-all"
            disabled={t.paused === 0}
            onClick={() => void attempt(() => api.resumeAll())}
          >
            <Icon name="play" /> Resume all
          </button>
        </div>
      </div>
    </header>
  )
}
