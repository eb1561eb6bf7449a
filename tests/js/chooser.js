// The real GTK file chooser: the Rust test types a path into it (xdotool)
// once this script says it is about to open one. `T.file` is that path.
check('chooser: about to open', true);
const picked = await window.moat.dialog.open();
check('chooser: the path typed into GTK\'s chooser comes back', picked === T.file, picked);
check('chooser: and is granted', picked === T.file && (await window.moat.fs.readTextFile(T.file)) === 'chosen for real');
harness.done();
