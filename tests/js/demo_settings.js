// The demo as shipped: the settings window keeps the theme in the store
// (the main window hears the change and applies it) and a token in the
// keyring; after a restart both are back. Run twice by the test.
const $ = (id) => document.getElementById(id);
const until = async (f, ms = 15000) => { for (let t = 0; t < ms && !f(); t += 50) await sleep(50); return f(); };
const TOKEN = 'demo-token-0123456789';

if (harness.window === 'main') {
  await until(() => document.documentElement.dataset.theme);
  const first = document.documentElement.dataset.theme === 'light';
  const closed = new Promise((resolve) => window.moat.listen('moat:window-closed', resolve));
  $('open-settings').click();
  if (first) {
    check('demo: the theme applies in the main window when settings saves it',
      await until(() => document.documentElement.dataset.theme === 'dark'), document.documentElement.dataset.theme);
  } else {
    check('demo: the saved theme is back after a restart', true);
  }
  await Promise.race([closed, sleep(30000)]);
  harness.done();
} else if (harness.window === 'settings') {
  await until(() => $('theme').dataset.loaded && $('token-result').textContent);
  if ($('theme').dataset.loaded === 'none') {
    check('demo settings: no token at first', $('token-result').textContent === 'ok: "no token saved"', $('token-result').textContent);
    $('theme').value = 'dark';
    $('save-theme').click();
    check('demo settings: the theme is saved', await until(() => $('theme-result').textContent === 'ok: null'), $('theme-result').textContent);
    $('token').value = TOKEN;
    $('save-token').click();
    const saved = `ok: "a token of ${TOKEN.length} characters is saved"`;
    check('demo settings: the token is saved in the keyring', await until(() => $('token-result').textContent === saved), $('token-result').textContent);
    check('demo settings: and its field is cleared', $('token').value === '');
  } else {
    check('demo settings: the theme is read back from the store', $('theme').value === 'dark', $('theme').value);
    check('demo settings: the token is still in the keyring', $('token-result').textContent === `ok: "a token of ${TOKEN.length} characters is saved"`, $('token-result').textContent);
  }
  $('close').click();
}
