// dialog.open / dialog.save, answered by --harness-dialog (one line per
// chooser, in the order below), and what they grant. `T` (prepended by the
// Rust test) holds the paths.
const { dialog, fs } = window.moat;

if (harness.load === 1) {
  await rejects('dialog: a page that never opened a dialog cannot read the path', fs.readTextFile(T.notes), 'scope_denied');

  // 1: notes.txt
  const picked = await dialog.open();
  check('dialog: open resolves to the chosen path', picked === T.notes, picked);
  check('dialog: and grants it for reading', (await fs.readTextFile(T.notes)) === 'notes');
  check('dialog: and writing', (await fs.writeTextFile(T.notes, 'notes, edited')) > 0 && (await fs.readTextFile(T.notes)) === 'notes, edited');

  // 2: cancel
  check('dialog: a cancelled dialog resolves to null', (await dialog.open()) === null);

  // 3: a*.txt, a real file with a star in its name
  const star = await dialog.open({ filters: [{ name: 'Text', extensions: ['txt'] }] });
  check('dialog: a name with glob characters is granted', star === T.star && (await fs.readTextFile(T.star)) === 'star', star);
  await rejects('dialog: and only itself (a*.txt does not grant ab.txt)', fs.readTextFile(T.ab), 'scope_denied');

  // 4: a directory
  const dir = await dialog.open({ directory: true });
  check('dialog: a directory grants its tree', dir === T.tree && (await fs.readTextFile(T.tree + '/inside.txt')) === 'inside', dir);
  const entries = await fs.readDir(T.tree);
  const listed = entries.map((e) => e.name).sort();
  // As for a configured dir/**: dotfiles hidden, a symlink listed as one
  // (and refused when read, below).
  check('dialog: its listing hides what the grant does not cover', listed.join() === 'inside.txt,link' && entries.find((e) => e.name === 'link').isSymlink, entries);
  await rejects('dialog: not its dotfiles', fs.readTextFile(T.tree + '/.hidden'), 'scope_denied');
  await rejects('dialog: not a symlink out of it', fs.readTextFile(T.tree + '/link'), 'scope_denied');
  await rejects('dialog: not its parent', fs.readTextFile(T.parentFile), 'scope_denied');

  // 5: save
  const target = await dialog.save({ defaultPath: T.saved });
  check('dialog: save resolves to the chosen path', target === T.saved, target);
  check('dialog: and grants writing it', (await fs.writeTextFile(target, 'saved')) === 5);
  await rejects('dialog: but not its neighbour', fs.writeTextFile(T.saved + '.other', 'x'), 'scope_denied');

  // 6: two files
  const two = await dialog.open({ multiple: true });
  check('dialog: multiple resolves to every chosen path', Array.isArray(two) && two.join('|') === [T.ab, T.parentFile].join('|'), two);
  check('dialog: each is granted', (await fs.readTextFile(T.ab)) === 'ab' && (await fs.readTextFile(T.parentFile)) === 'parent');

  await rejects('dialog: a filter is extensions, not patterns', dialog.open({ filters: [{ name: 'x', extensions: ['*'] }] }), 'path_invalid');
  location.reload();
} else {
  await rejects('dialog: a reload ends every grant', fs.readTextFile(T.notes), 'scope_denied');
  harness.done();
}
