// The development loop (MOAT_FRONTEND_DIR, debug build): the page edits its
// own index.html on disk through fs (the test put the frontend under
// $APPDATA), reloads, and sees the edit, prepared like the embedded copy
// (its new inline script runs, by hash).
const INDEX = '$APPDATA/frontend/index.html';
if (harness.load === 1) {
  check('devloop: the frontend is the copy on disk', document.title === 'Moat demo', document.title);
  const html = await window.moat.fs.readTextFile(INDEX);
  const edited = html
    .replace('<title>Moat demo</title>', '<title>Moat demo, edited</title>')
    .replace('</head>', "<script>window.devInline = 'ran';</script></head>");
  check('devloop: the edit is written', edited !== html && (await window.moat.fs.writeTextFile(INDEX, edited)) > 0);
  location.reload();
} else {
  check('devloop: a reload shows the edit', document.title === 'Moat demo, edited', document.title);
  check('devloop: the edited page is prepared again (its inline script runs by hash)', window.devInline === 'ran', window.devInline);
  check('devloop: and gets the nonce meta', !!document.querySelector('meta[property="csp-nonce"]'));
  check('devloop: calls still work', (await invoke('greet', { name: 'dev' })) === 'Hello, dev! (from Rust)');
  // Hidden files and files outside, by names that look harmless: a
  // symlink to .env, a symlink to the .git folder, a hard link to a file
  // outside. Each would set a global if it ran.
  for (const [what, src, global] of [
    ['a symlink to a dotfile', '/env.js', 'leakedEnv'],
    ['a symlink to a hidden folder', '/git/hook.js', 'leakedGit'],
    ['a hard link to a file outside', '/linked.js', 'leakedOutside'],
  ]) {
    const loaded = await new Promise((resolve) => {
      const el = document.createElement('script');
      el.src = src;
      el.onload = () => resolve('load');
      el.onerror = () => resolve('error');
      document.head.append(el);
    });
    check(`devloop: ${what} is not served`, loaded === 'error' && window[global] === undefined, { loaded, ran: window[global] });
  }
  harness.done();
}
