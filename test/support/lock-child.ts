/**
 * A process that takes journal locks on cue, for lock races between real processes: prints
 * "ready", then for each line `<state dir>\t<id>[\t<source path>]` on stdin tries
 * `FileJournal(dir).lock(id)` (or `lockUpload(id, {path, destinationId: 'test'})` when a path is
 * given) and prints "won" or "locked <code>". It holds whatever it got until killed.
 */
import { createInterface } from 'node:readline'
import { FileJournal } from '../../src/main/core/journal/file-journal'

createInterface({ input: process.stdin }).on('line', (line) => {
  const [dir, id, sourcePath] = line.split('\t') as [string, string, string | undefined]
  const journal = new FileJournal(dir)
  const take = sourcePath
    ? journal.lockUpload(id, { path: sourcePath, destinationId: 'test' })
    : journal.lock(id)
  take.then(
    () => process.stdout.write('won\n'),
    (e: unknown) => process.stdout.write(`locked ${(e as { code?: string }).code}\n`),
  )
})
process.stdout.write('ready\n')
