import { useCallback, useEffect, useState } from 'react'
import type {
  EditableSettings,
  SettingsView,
  TestConnectionResult,
} from '../../../preload/contract'
import { api, errorMessage } from '../api'
import { appStore } from '../store/hooks'
import type { SecretDraft } from './DestinationForm'

const NO_SECRETS: SecretDraft = { secretAccessKey: '', backendToken: '' }

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
    appStore.update({ destination: v.destination })
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
      let v = await api.saveSettings(draft)
      if (secrets.secretAccessKey) {
        v = await api.setSecret({ name: 'secretAccessKey', value: secrets.secretAccessKey })
      }
      if (secrets.backendToken) {
        v = await api.setSecret({ name: 'backendToken', value: secrets.backendToken })
      }
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
      setTest(
        await api.testConnection({
          draft,
          secrets: {
            secretAccessKey: secrets.secretAccessKey || undefined,
            backendToken: secrets.backendToken || undefined,
          },
        }),
      )
    } catch (e) {
      setTest({ ok: false, message: errorMessage(e), advice: [] })
    } finally {
      setTesting(false)
    }
  }, [draft, secrets])

  const clearSecret = useCallback(
    (name: 'secretAccessKey' | 'backendToken') => {
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
