import { useState } from 'react'
import type { CleanupSummary, EditableSettings } from '../../../preload/contract'
import { api } from '../api'
import { attempt } from '../boot'
import { DestinationForm } from './DestinationForm'
import { useSettingsForm } from './useSettingsForm'

function NumberField(props: {
  label: string
  hint?: string
  value: number
  min: number
  max: number
  step?: number
  onChange(v: number): void
  testId?: string
}): React.JSX.Element {
  return (
    <label>
      {props.label} {props.hint && <span className="hint">{props.hint}</span>}
      <input
        type="number"
        data-testid={props.testId}
        value={Number.isFinite(props.value) ? props.value : ''}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        onChange={(e) => props.onChange(e.target.valueAsNumber)}
      />
    </label>
  )
}

function Check(props: { label: string; checked: boolean; onChange(v: boolean): void }) {
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      {props.label}
    </label>
  )
}

function Cleanup(): React.JSX.Element {
  const [days, setDays] = useState(7)
  const [server, setServer] = useState(false)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<CleanupSummary | null>(null)
  return (
    <fieldset className="card">
      <legend>Clean up incomplete uploads</legend>
      <p className="muted">
        Uploads that were started and never finished keep their parts on the server (and cost
        storage) until they are aborted.
      </p>
      <div className="grid">
        <NumberField label="Older than (days)" value={days} min={0} max={3650} onChange={setDays} />
        <Check
          label="Also look on the server for uploads this computer does not know"
          checked={server}
          onChange={setServer}
        />
      </div>
      <button
        type="button"
        data-testid="cleanup"
        disabled={busy || !Number.isFinite(days)}
        onClick={() => {
          setBusy(true)
          void attempt(() => api.cleanup({ olderThanDays: days, server })).then((r) => {
            setBusy(false)
            if (r) setResult(r)
          })
        }}
      >
        {busy ? 'Cleaning up…' : 'Clean up'}
      </button>
      {result && (
        <p role="status" data-testid="cleanup-result">
          Removed {result.journalRecords} unfinished upload{result.journalRecords === 1 ? '' : 's'}{' '}
          from this computer and {result.serverUploads} from the server.
          {result.failures.length > 0 && ` ${result.failures.length} could not be removed.`}
        </p>
      )}
    </fieldset>
  )
}

export function SettingsPanel(): React.JSX.Element {
  const f = useSettingsForm()
  if (!f.view || !f.draft) return <p className="muted">Loading settings…</p>
  const d = f.draft
  const set = (patch: Partial<EditableSettings>) => f.setDraft({ ...d, ...patch })

  return (
    <form
      className="settings"
      data-testid="settings"
      aria-label="Settings"
      onSubmit={(e) => {
        e.preventDefault()
        void f.save()
      }}
    >
      {f.view.problems.length > 0 && (
        <div className="warning" role="alert" data-testid="settings-problems">
          <p>
            Some saved settings were not valid any more; the form shows the defaults used instead:
          </p>
          <ul>
            {f.view.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
          <p>Saving the form stores what it shows.</p>
        </div>
      )}
      <DestinationForm
        draft={d}
        setDraft={f.setDraft}
        secrets={f.secrets}
        setSecrets={f.setSecrets}
        view={f.view}
        onClearSecret={f.clearSecret}
        onTest={() => void f.runTest()}
        testing={f.testing}
        test={f.test}
      />

      <fieldset className="card">
        <legend>Uploads</legend>
        <div className="grid">
          <label className="span2">
            Object key template{' '}
            <span className="hint">
              {'{uuid} {filename} {basename} {ext} {date} {relativeDir}'}
            </span>
            <input value={d.keyTemplate} onChange={(e) => set({ keyTemplate: e.target.value })} />
          </label>
          <label className="span2">
            Thumbnail key template{' '}
            <span className="hint">(empty: thumbnail.jpg beside the video)</span>
            <input
              value={d.thumbnailKeyTemplate}
              onChange={(e) => set({ thumbnailKeyTemplate: e.target.value })}
            />
          </label>
          <NumberField
            label="Part size (MiB)"
            hint="5 – 5120"
            value={d.partSizeMiB}
            min={5}
            max={5120}
            onChange={(v) => set({ partSizeMiB: v })}
          />
          <NumberField
            label="Parallel parts"
            hint="1 – 32"
            value={d.concurrency}
            min={1}
            max={32}
            onChange={(v) => set({ concurrency: v })}
          />
          <NumberField
            label="Bandwidth limit (Mbit/s)"
            hint="0 = no limit"
            testId="bandwidth"
            value={d.bandwidthLimitMbps}
            min={0}
            max={100000}
            step={0.5}
            onChange={(v) => set({ bandwidthLimitMbps: v })}
          />
          <NumberField
            label="Share links valid (hours)"
            hint="1 – 168"
            value={d.shareLinkHours}
            min={1}
            max={168}
            onChange={(v) => set({ shareLinkHours: v })}
          />
        </div>
      </fieldset>

      <fieldset className="card">
        <legend>Files and thumbnails</legend>
        <div className="grid">
          <Check
            label="Make and upload a thumbnail for each video"
            checked={d.thumbnails.enabled}
            onChange={(v) => set({ thumbnails: { ...d.thumbnails, enabled: v } })}
          />
          <NumberField
            label="Thumbnail size (longest side, px)"
            value={d.thumbnails.maxLongSide}
            min={120}
            max={3840}
            onChange={(v) => set({ thumbnails: { ...d.thumbnails, maxLongSide: v } })}
          />
          <Check
            label="Upload all file types, not only videos"
            checked={d.allFileTypes}
            onChange={(v) => set({ allFileTypes: v })}
          />
          <Check
            label="Resume unfinished uploads on launch without asking"
            checked={d.autoResume}
            onChange={(v) => set({ autoResume: v })}
          />
          <Check
            label="Notify me when uploads finish or fail"
            checked={d.notifications}
            onChange={(v) => set({ notifications: v })}
          />
        </div>
      </fieldset>

      <fieldset className="card">
        <legend>Stored objects</legend>
        <div className="grid">
          <label>
            Access
            <select
              value={d.objectOptions.acl}
              onChange={(e) =>
                set({
                  objectOptions: {
                    ...d.objectOptions,
                    acl: e.target.value as 'private' | 'public-read',
                  },
                })
              }
            >
              <option value="private">Private</option>
              <option value="public-read">Public (anyone with the URL)</option>
            </select>
          </label>
          <label>
            Encryption
            <select
              value={d.objectOptions.sse}
              onChange={(e) =>
                set({
                  objectOptions: {
                    ...d.objectOptions,
                    sse: e.target.value as EditableSettings['objectOptions']['sse'],
                  },
                })
              }
            >
              <option value="none">Bucket default</option>
              <option value="AES256">S3-managed keys (AES256)</option>
              <option value="aws:kms">KMS</option>
            </select>
          </label>
          {d.objectOptions.sse === 'aws:kms' && (
            <label className="span2">
              KMS key ID
              <input
                value={d.objectOptions.kmsKeyId}
                onChange={(e) =>
                  set({ objectOptions: { ...d.objectOptions, kmsKeyId: e.target.value } })
                }
              />
            </label>
          )}
          <label>
            Storage class <span className="hint">(empty: bucket default)</span>
            <input
              value={d.objectOptions.storageClass}
              placeholder="STANDARD"
              onChange={(e) =>
                set({ objectOptions: { ...d.objectOptions, storageClass: e.target.value.trim() } })
              }
            />
          </label>
        </div>
      </fieldset>

      <fieldset className="card">
        <legend>Watch folders</legend>
        <p className="muted">New videos in these folders are added once they stop growing.</p>
        <ul className="watch-list" data-testid="watch-folders">
          {f.view.watchFolders.map((w) => (
            <li key={w}>
              <span className="path">{w}</span>
              <button
                type="button"
                className="link-button"
                aria-label={`Stop watching ${w}`}
                onClick={() =>
                  void attempt(() => api.removeWatchFolder({ path: w })).then(
                    (v) => v && f.adopt(v),
                  )
                }
              >
                Remove
              </button>
            </li>
          ))}
          {f.view.watchFolders.length === 0 && <li className="muted">None</li>}
        </ul>
        <button
          type="button"
          onClick={() => void attempt(() => api.addWatchFolder()).then((v) => v && f.adopt(v))}
        >
          Add a watch folder…
        </button>
      </fieldset>

      <Cleanup />

      <div className="save-bar">
        <button type="submit" className="primary" data-testid="save-settings" disabled={f.saving}>
          {f.saving ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  )
}
