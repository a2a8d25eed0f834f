import { useEffect, useRef } from 'react'
import { api } from '../api'
import { attempt } from '../boot'
import { formatDate } from '../format'
import { appStore, useApp } from '../store/hooks'

/**
 * "Already uploaded": held-back duplicates wait here for the user's decision, one question at a
 * time (the next shows once this one is answered).
 */
export function DuplicateDialog(): React.JSX.Element | null {
  const { duplicates: questions } = useApp()
  const duplicates = questions[0]
  const first = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (duplicates) first.current?.focus()
  }, [duplicates])
  if (!duplicates) return null
  const decide = (upload: boolean) => {
    appStore.answerDuplicates(duplicates.token)
    void attempt(() => api.confirmDuplicates({ token: duplicates.token, upload })).then((r) =>
      appStore.reportAdd(r ?? null),
    )
  }
  const n = duplicates.files.length
  const more = questions.length - 1
  return (
    <div className="modal-backdrop">
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dup-title"
        data-testid="duplicate-dialog"
        onKeyDown={(e) => {
          if (e.key === 'Escape') decide(false)
        }}
      >
        <h2 id="dup-title">{n === 1 ? 'Already uploaded' : `${n} files already uploaded`}</h2>
        <p>
          {n === 1 ? 'The same file was' : 'The same files were'} uploaded to this destination
          before:
        </p>
        <ul className="dup-list">
          {duplicates.files.slice(0, 8).map((f, i) => (
            <li key={i}>
              <strong>{f.name}</strong> → {f.previous.key} ({formatDate(f.previous.completedAt)})
            </li>
          ))}
          {n > 8 && <li>and {n - 8} more</li>}
        </ul>
        {more > 0 && (
          <p className="hint" data-testid="duplicate-more">
            {more === 1 ? 'One more question follows.' : `${more} more questions follow.`}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" ref={first} onClick={() => decide(false)}>
            Skip {n === 1 ? 'it' : 'them'}
          </button>
          <button type="button" className="primary" onClick={() => decide(true)}>
            Upload again
          </button>
        </div>
      </div>
    </div>
  )
}
