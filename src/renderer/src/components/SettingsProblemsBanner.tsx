import { appStore, useApp } from '../store/hooks'

/**
 * Saved settings that are not valid any more (a hand edit, or a check an older Upreel did not
 * make): their defaults are in use, which may send uploads somewhere else, so it stays in view
 * until the settings are saved again. The settings screen lists them itself.
 */
export function SettingsProblemsBanner(): React.JSX.Element | null {
  const { settingsProblems, view } = useApp()
  if (settingsProblems.length === 0 || view === 'settings') return null
  return (
    <section
      className="banner"
      role="region"
      aria-label="Settings to check"
      data-testid="settings-problems-banner"
    >
      <div className="banner-text">
        <strong>Some saved settings are not valid any more, so their defaults are used.</strong>{' '}
        {settingsProblems.join(' ')}
      </div>
      <div className="banner-actions">
        <button
          type="button"
          className="primary"
          onClick={() => appStore.update({ view: 'settings' })}
        >
          Check settings
        </button>
      </div>
    </section>
  )
}
