import { api } from '../api'
import { attempt } from '../boot'
import { formatBytes } from '../format'
import { appStore, useApp } from '../store/hooks'

/** Uploads an earlier session left unfinished (crash, quit, sleep, the CLI). */
export function ResumeBanner(): React.JSX.Element | null {
  const { interrupted, interruptedDismissed } = useApp()
  const resumable = interrupted.filter((r) => !r.locked)
  if (interrupted.length === 0 || interruptedDismissed) return null
  const left = resumable.reduce((sum, r) => sum + Math.max(0, r.size - r.bytesDone), 0)
  const names = interrupted.slice(0, 3).map((r) => r.name)
  const more =
    interrupted.length > names.length ? ` and ${interrupted.length - names.length} more` : ''
  const locked = interrupted.length - resumable.length
  return (
    <section
      className="banner"
      role="region"
      aria-label="Interrupted uploads"
      data-testid="resume-banner"
    >
      <div className="banner-text">
        <strong>
          {interrupted.length === 1
            ? '1 upload did not finish last time.'
            : `${interrupted.length} uploads did not finish last time.`}
        </strong>{' '}
        {names.join(', ')}
        {more}.{' '}
        {resumable.length > 0 && `${formatBytes(left)} left to send; finished parts are kept.`}
        {locked > 0 && ` ${locked} in use by another Upreel process.`}
      </div>
      <div className="banner-actions">
        {resumable.length > 0 && (
          <button
            type="button"
            className="primary"
            data-testid="resume-interrupted"
            onClick={() =>
              void attempt(() => api.resumeInterrupted()).then((r) => {
                if (r) appStore.update({ interrupted: r.interrupted })
              })
            }
          >
            Resume all
          </button>
        )}
        {resumable.length > 0 && (
          <button
            type="button"
            data-testid="discard-interrupted"
            onClick={() =>
              void attempt(() => api.discardInterrupted()).then((r) => {
                if (r) appStore.update({ interrupted: r.interrupted })
              })
            }
          >
            Discard
          </button>
        )}
        <button type="button" onClick={() => appStore.update({ interruptedDismissed: true })}>
          Not now
        </button>
      </div>
    </section>
  )
}
