// Writes that the disk refuses: a full file system ($APPDATA/full, a small
// tmpfs) and a read-only one ($APPDATA/ro). Each fails with io_failed, the
// old file is intact, and the app keeps answering. The Rust test lists the
// directories afterwards for leftover temp files.
const { fs } = window.moat;
const large = 'x'.repeat(200 * 1024);
await rejects('a write into a full file system is io_failed', fs.writeTextFile('$APPDATA/full/notes.txt', large), 'io_failed');
check('the full file system keeps the old file', (await fs.readTextFile('$APPDATA/full/notes.txt')) === 'old notes');
await rejects('a write into a read-only file system is io_failed', fs.writeTextFile('$APPDATA/ro/notes.txt', 'new'), 'io_failed');
check('the read-only file system keeps the old file', (await fs.readTextFile('$APPDATA/ro/notes.txt')) === 'old notes');
check('the app keeps answering', (await invoke('echo', { data: 'alive' })) === 'alive');
harness.done();
