import { DestinationForm } from './DestinationForm'
import { Icon } from './Icon'
import { useSettingsForm } from './useSettingsForm'

/** First launch (nothing configured, nothing in the environment): where should videos go? */
export function SetupScreen(): React.JSX.Element {
  const f = useSettingsForm()
  return (
    <main className="setup" data-testid="setup" aria-labelledby="setup-title">
      <div className="setup-head">
        <span className="logo big" aria-hidden="true">
          <Icon name="up" size={28} />
        </span>
        <h1 id="setup-title">Where should your videos go?</h1>
        <p className="muted">
          Upreel uploads straight to your own S3 bucket (AWS, or any S3-compatible storage), or
          through your platform&apos;s upload server. Large files resume where they stopped after a
          crash, a lost network or a night&apos;s sleep.
        </p>
      </div>
      {f.view && f.draft ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void f.save()
          }}
        >
          <DestinationForm
            draft={f.draft}
            setDraft={f.setDraft}
            secrets={f.secrets}
            setSecrets={f.setSecrets}
            view={f.view}
            onClearSecret={f.clearSecret}
            onTest={() => void f.runTest()}
            testing={f.testing}
            test={f.test}
          />
          <div className="save-bar">
            <button type="submit" className="primary" data-testid="save-setup" disabled={f.saving}>
              Save and start
            </button>
          </div>
        </form>
      ) : (
        <p className="muted">Loading…</p>
      )}
      <p className="muted small">
        Tip: Upreel also reads <code>AWS_S3_BUCKET</code>, <code>AWS_REGION</code>,{' '}
        <code>AWS_ENDPOINT_URL_S3</code> and the usual AWS credentials (or <code>AWS_PROFILE</code>)
        from the environment it is started in, and <code>UPREEL_BACKEND_URL</code> for an upload
        server.
      </p>
    </main>
  )
}
