import { useCallback, useEffect, useState } from 'react'
import type {
  EditableSettings,
  SecretsInput,
  SettingsView,
  TestConnectionResult,
} from '../../../preload/contract'
import { api, errorMessage } from '../api'
import { parseHeaderLines } from '../credentials'
import { appStore } from '../store/hooks'
import type { SecretDraft } from './DestinationForm'

const NO_SECRETS: SecretDraft = { secretAccessKey: '', backendToken: '', backendHeaders: '' }

/** The secrets typed in the form, as main takes them (empty fields are not sent). */
function typedSecrets(secrets: SecretDraft): SecretsInput {
  const { headers, error } = parseHeaderLines(secrets.backendHeaders)
  if (error) throw new Error(error)
  return {
    secretAccessKey: secrets.secretAccessKey || undefined,
    backendToken: secrets.backendToken || undefined,
    backendHeaders: headers.length > 0 ? headers : undefined,
  }
}

/** The settings form's state: a draft of the editable settings plus secrets typed but not saved. */
export function useSettingsForm() {
  const [view, setView] = useState<SettingsView | null>(null)
  const [draft, setDraft] = useState<EditableSettings | null>(null)
  const [secrets, setSecrets] = useState<SecretDraft>(NO_SECRETS)
  const [test, setTest] = useState<TestConnectionResult | null>(null)
  const [testing, setTesting] = useState(false)
  const [saving, setSaving] = useState(false)

  const adopt = useCallback((v: SettingsView) => {
    setView(v)
    setDraft(v.settings)
    appStore.update({ destination: v.destination, settingsProblems: v.problems })
  }, [])

  useEffect(() => {
    void api
      .getSettings()
      .then(adopt, (e: unknown) => appStore.toast({ kind: 'error', message: errorMessage(e) }))
  }, [adopt])

  const save = useCallback(async (): Promise<boolean> => {
    if (!draft) return false
    setSaving(true)
    try {
      // One request: the settings and the secrets typed with them are stored together and the
      // engine is rebuilt once (a new key id never meets the old secret).
      const v = await api.saveSettings({ settings: draft, secrets: typedSecrets(secrets) })
      setSecrets(NO_SECRETS)
      adopt(v)
      const info = await api.getAppInfo()
      appStore.update({ interrupted: info.interrupted })
      appStore.toast({ kind: 'info', message: 'Settings saved.' })
      return true
    } catch (e) {
      appStore.toast({ kind: 'error', message: errorMessage(e) })
      return false
    } finally {
      setSaving(false)
    }
  }, [adopt, draft, secrets])

  const runTest = useCallback(async () => {
    if (!draft) return
    setTesting(true)
    setTest(null)
    try {
      setTest(await api.testConnection({ draft, secrets: typedSecrets(secrets) }))
    } catch (e) {
      setTest({ ok: false, message: errorMessage(e), advice: [] })
    } finally {
      setTesting(false)
    }
  }, [draft, secrets])

  const clearSecret = useCallback(
    (name: 'secretAccessKey' | 'backendToken' | 'backendHeaders') => {
      void api
        .clearSecret({ name })
        .then(adopt, (e: unknown) => appStore.toast({ kind: 'error', message: errorMessage(e) }))
    },
    [adopt],
  )

  return {
    view,
    draft,
    setDraft,
    secrets,
    setSecrets,
    test,
    testing,
    saving,
    save,
    runTest,
    clearSecret,
    adopt,
  }
}
