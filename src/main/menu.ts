import { Menu, type MenuItemConstructorOptions } from 'electron'

export interface MenuActions {
  addFiles(): void
  addFolder(): void
  show(view: 'queue' | 'history' | 'settings'): void
  openHelp(): void
  isDev: boolean
}

/** The app menu: the usual roles plus our commands, with accelerators. */
export function buildAppMenu(a: MenuActions): Menu {
  const isMac = process.platform === 'darwin'
  const template: MenuItemConstructorOptions[] = [
    ...(isMac
      ? [
          {
            role: 'appMenu' as const,
            submenu: [
              { role: 'about' as const },
              { type: 'separator' as const },
              {
                label: 'Settings…',
                accelerator: 'CmdOrCtrl+,',
                click: () => a.show('settings'),
              },
              { type: 'separator' as const },
              { role: 'hide' as const },
              { role: 'hideOthers' as const },
              { role: 'unhide' as const },
              { type: 'separator' as const },
              { role: 'quit' as const },
            ],
          },
        ]
      : []),
    {
      label: 'File',
      submenu: [
        { label: 'Add Videos…', accelerator: 'CmdOrCtrl+O', click: () => a.addFiles() },
        { label: 'Add Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => a.addFolder() },
        { type: 'separator' },
        ...(isMac
          ? []
          : [
              { label: 'Settings', accelerator: 'CmdOrCtrl+,', click: () => a.show('settings') },
              { type: 'separator' as const },
            ]),
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { label: 'Queue', accelerator: 'CmdOrCtrl+1', click: () => a.show('queue') },
        { label: 'History', accelerator: 'CmdOrCtrl+2', click: () => a.show('history') },
        { label: 'Settings', accelerator: 'CmdOrCtrl+3', click: () => a.show('settings') },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(a.isDev
          ? [
              { type: 'separator' as const },
              { role: 'reload' as const },
              { role: 'toggleDevTools' as const },
            ]
          : []),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [{ label: 'Cleaning Up Incomplete Uploads (AWS Docs)', click: () => a.openHelp() }],
    },
  ]
  return Menu.buildFromTemplate(template)
}
