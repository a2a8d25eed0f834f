import { useId } from 'react'
import type {
  EditableSettings,
  SettingsView,
  TestConnectionResult,
} from '../../../preload/contract'
import { originOf, savedFor } from '../credentials'
import { Icon } from './Icon'

export interface SecretDraft {
  secretAccessKey: string
  backendToken: string
  /** The extra-headers box as typed: "Name: value" per line. */
  backendHeaders: string
}

type SecretName = 'secretAccessKey' | 'backendToken' | 'backendHeaders'

interface Props {
  draft: EditableSettings
  setDraft(next: EditableSettings): void
  secrets: SecretDraft
  setSecrets(next: SecretDraft): void
  view: SettingsView
  onClearSecret(name: SecretName): void
  onTest(): void
  testing: boolean
  test: TestConnectionResult | null
}

/** Where uploads go: S3 (or S3-compatible) or an upload server. Shared by setup and settings. */
export function DestinationForm(p: Props): React.JSX.Element {
  const id = useId()
  const d = p.draft
  const s3 = (patch: Partial<EditableSettings['s3']>) =>
    p.setDraft({ ...d, s3: { ...d.s3, ...patch } })
  const be = (patch: Partial<EditableSettings['backend']>) =>
    p.setDraft({ ...d, backend: { ...d.backend, ...patch } })
  const remove = (name: SecretName) => (
    <button type="button" className="link-button" onClick={() => p.onClearSecret(name)}>
      Remove
    </button>
  )
  const weak = p.view.secretStorage === 'weak' && ' (this system has no keyring: obfuscated only)'
  const secretNote = (name: SecretName, what?: string) => {
    if (!p.view.secrets[name]) return <span className="secret-state">Not set</span>
    const bound = name === 'secretAccessKey' ? undefined : p.view.secretOrigins[name]
    // A backend credential goes only to the address it was typed for (main enforces it).
    if (bound && savedFor(true, bound, d.backend.url) === 'elsewhere') {
      return (
        <span className="secret-state warning" data-testid={`${name}-elsewhere`}>
          Saved{what} for {bound.join(' and ') || 'another address'} only: type it again to use it
          with this address. {remove(name)}
        </span>
      )
    }
    return (
      <span className="secret-state">
        Saved{what}
        {weak}. {remove(name)}
      </span>
    )
  }
  const savedHeaderNames = p.view.backendHeaderNames.join(', ')
  const hookOrigin = originOf(d.backend.hookUrl)
  const hookMissesCredentials =
    hookOrigin !== null &&
    (['backendToken', 'backendHeaders'] as const).some(
      (n) => p.view.secrets[n] && !p.view.secretOrigins[n]?.includes(hookOrigin),
    ) &&
    !p.secrets.backendToken &&
    !p.secrets.backendHeaders.trim()

  return (
    <fieldset className="card">
      <legend>Where uploads go</legend>
      <div className="segmented" role="radiogroup" aria-label="Destination type">
        <label className={d.mode === 's3' ? 'seg active' : 'seg'}>
          <input
            type="radio"
            name={`${id}-mode`}
            checked={d.mode === 's3'}
            onChange={() => p.setDraft({ ...d, mode: 's3' })}
          />
          My S3 bucket
        </label>
        <label className={d.mode === 'backend' ? 'seg active' : 'seg'}>
          <input
            type="radio"
            name={`${id}-mode`}
            checked={d.mode === 'backend'}
            onChange={() => p.setDraft({ ...d, mode: 'backend' })}
          />
          My platform&apos;s upload server
        </label>
      </div>

      {d.mode === 's3' ? (
        <div className="grid">
          <label>
            Bucket
            <input
              data-testid="s3-bucket"
              value={d.s3.bucket}
              placeholder="my-videos"
              onChange={(e) => s3({ bucket: e.target.value.trim() })}
            />
          </label>
          <label>
            Region
            <input value={d.s3.region} onChange={(e) => s3({ region: e.target.value.trim() })} />
          </label>
          <label className="span2">
            Endpoint{' '}
            <span className="hint">(empty for AWS; for MinIO, R2, Wasabi… the full URL)</span>
            <input
              data-testid="s3-endpoint"
              value={d.s3.endpoint}
              placeholder="https://s3.example.com"
              onChange={(e) => s3({ endpoint: e.target.value.trim() })}
            />
          </label>
          <label className="check span2">
            <input
              type="checkbox"
              checked={d.s3.forcePathStyle}
              onChange={(e) => s3({ forcePathStyle: e.target.checked })}
            />
            Path-style addresses (most S3-compatible servers need this)
          </label>
          <label>
            Access key ID <span className="hint">(empty: AWS profile or environment)</span>
            <input
              data-testid="s3-access-key"
              value={d.s3.accessKeyId}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => s3({ accessKeyId: e.target.value.trim() })}
            />
          </label>
          <label>
            Secret access key {secretNote('secretAccessKey')}
            <input
              data-testid="s3-secret"
              type="password"
              autoComplete="new-password"
              value={p.secrets.secretAccessKey}
              placeholder={p.view.secrets.secretAccessKey ? '•••••••• (type to replace)' : ''}
              onChange={(e) => p.setSecrets({ ...p.secrets, secretAccessKey: e.target.value })}
            />
          </label>
        </div>
      ) : (
        <div className="grid">
          <label className="span2">
            Upload server URL{' '}
            <span className="hint">(Companion-compatible: /s3/multipart routes)</span>
            <input
              data-testid="backend-url"
              value={d.backend.url}
              placeholder="https://uploads.example.com"
              onChange={(e) => be({ url: e.target.value.trim() })}
            />
          </label>
          <label>
            Access token {secretNote('backendToken')}
            <input
              data-testid="backend-token"
              type="password"
              autoComplete="new-password"
              value={p.secrets.backendToken}
              placeholder={
                savedFor(
                  p.view.secrets.backendToken,
                  p.view.secretOrigins.backendToken,
                  d.backend.url,
                ) === 'here'
                  ? '•••••••• (type to replace)'
                  : ''
              }
              onChange={(e) => p.setSecrets({ ...p.secrets, backendToken: e.target.value })}
            />
          </label>
          <label className="span2">
            Extra headers{' '}
            {secretNote('backendHeaders', savedHeaderNames ? ` (${savedHeaderNames})` : '')}{' '}
            <span className="hint">
              (optional; one <code>Name: value</code> per line, e.g. <code>X-Api-Key: …</code> or{' '}
              <code>Cookie: session=…</code>. Kept secret like the token; typing here replaces the
              saved ones)
            </span>
            <textarea
              data-testid="backend-headers"
              rows={2}
              autoComplete="off"
              spellCheck={false}
              value={p.secrets.backendHeaders}
              placeholder={
                savedFor(
                  p.view.secrets.backendHeaders,
                  p.view.secretOrigins.backendHeaders,
                  d.backend.url,
                ) === 'here'
                  ? '•••••••• (type to replace)'
                  : ''
              }
              onChange={(e) => p.setSecrets({ ...p.secrets, backendHeaders: e.target.value })}
            />
          </label>
          <label>
            Processing hook <span className="hint">(optional; called after each upload)</span>
            <input
              data-testid="backend-hook"
              value={d.backend.hookUrl}
              onChange={(e) => be({ hookUrl: e.target.value.trim() })}
            />
            {hookMissesCredentials && (
              <span className="hint" data-testid="hook-without-credentials">
                Your saved token and headers are not sent to this address: type them again to send
                them here.
              </span>
            )}
          </label>
        </div>
      )}
      {p.view.secretStorage === 'unavailable' && (
        <p className="warning">
          This computer offers no secure storage for secrets: use an AWS profile or environment
          variables for credentials.
        </p>
      )}
      <div className="test-row">
        <button type="button" data-testid="test-connection" onClick={p.onTest} disabled={p.testing}>
          {p.testing ? 'Testing…' : 'Test connection'}
        </button>
        {p.test && (
          <div
            className={p.test.ok ? 'test-result ok' : 'test-result bad'}
            data-testid="test-result"
            data-ok={p.test.ok ? 'true' : 'false'}
            role="status"
          >
            <Icon name={p.test.ok ? 'check' : 'alert'} size={16} /> {p.test.message}
            {p.test.advice.length > 0 && (
              <ul className="advice" data-testid="test-advice">
                {p.test.advice.map((a, i) => (
                  <li key={i}>{a}</li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
    </fieldset>
  )
}
