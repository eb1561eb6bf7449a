// Several windows (issue 25), run in each app window (`harness.window`):
// each window's allowlist and scopes hold in it; an envelope sealed in one
// window opens nothing in another; closing a window ends its page load and
// reopening it gives a new key; an untrusted view has no bridge and none
// of Moat's schemes, and what it reaches at its end comes back to the
// window that opened it; a named window.open target reaches no other
// window. The windows hand each other data through files in a directory
// both may use ($APPDATA/shared), as two windows of a real app could.
// `T` (from the Rust test): { mark, viewOrigin }.
const { fs } = window.moat;
const shared = (name) => `$APPDATA/shared/${name}`;

async function read(name) {
  try {
    return await fs.readTextFile(shared(name));
  } catch (e) {
    return null;
  }
}

async function waitFor(name, ms = 30000) {
  const until = Date.now() + ms;
  for (;;) {
    const text = await read(name);
    if (text !== null) return text;
    if (Date.now() > until) throw new Error(`${name} never came`);
    await sleep(100);
  }
}

async function withTimeout(promise, ms, what) {
  return Promise.race([promise, sleep(ms).then(() => { throw new Error(`${what}: no answer in ${ms} ms`); })]);
}

if (harness.window === 'main') {
  await fs.writeTextFile('$APPDATA/main-only.txt', 'main');
  const opened = await invoke('window.open', { label: 'settings' });
  check('main: opens a window its allowlist names', opened && opened.ok === true, opened);
  await rejects('main: a window nobody declared is refused', invoke('window.open', { label: 'nope' }), 'scope_denied', 'not in allowlist.windows of window main');
  await rejects('main: the main window cannot be opened again', invoke('window.open', { label: 'main' }), 'scope_denied');
  // An envelope sealed under this window's key, for the settings window to
  // replay into its own transport.
  const att = await connectTo(isolationFrame());
  const sealed = await att.seal('greet', { name: big('sealed in main') });
  await fs.writeTextFile(shared('main-envelope'), toB64(sealed.envelope));

  await waitFor('settings-first-done');
  const counts = await invoke('refusal_counts');
  check('main: its refusal counts are its own (the settings window\'s replay is not in them)', !counts.decrypt_failed, counts);
  // The settings window closed itself; open it again.
  await sleep(800);
  const again = await invoke('window.open', { label: 'settings' });
  check('main: opens the settings window again after it closed', again && again.ok === true, again);
  await waitFor('settings-second-done');

  // The untrusted view: its results come back in the URL it ends at.
  const finished = new Promise((resolve) => window.moat.listen('moat:view-finished', resolve));
  await invoke('window.open', { label: 'view' });
  let view = null;
  try {
    view = await withTimeout(finished, 30000, 'moat:view-finished');
  } catch (e) {
    check('view: ends at its finishOn URL and the opener is told', false, String(e));
  }
  if (view) {
    check('view: ends at its finishOn URL and the opener is told', view.label === 'view' && view.url.startsWith(`${T.viewOrigin}/done?`), view);
    const results = JSON.parse(new URL(view.url).searchParams.get('r'));
    for (const [name, r] of Object.entries(results)) check(`view: ${name}`, r.ok === true, r);
  }
  check('main: its page is untouched by a window.open aimed at "main" from another window', location.href === 'app://localhost/', location.href);
  harness.done();
} else if (harness.window === 'settings') {
  if ((await read('settings-first-done')) === null) {
    check('settings: a command its allowlist names works', (await invoke('greet', { name: 'settings' })) === 'Hello, settings! (from Rust)');
    await rejects('settings: a command only the main window may call is not allowed here', invoke('echo', { data: 'x' }), 'not_allowed');
    await rejects('settings: a file in the main window\'s scope is outside this one\'s', fs.readTextFile('$APPDATA/main-only.txt'), 'scope_denied');
    await rejects('settings: a window its allowlist does not name cannot be opened', invoke('window.open', { label: 'view' }), 'not_allowed');
    const env = fromB64(await waitFor('main-envelope'));
    directRejects('settings: an envelope sealed in the main window does not open here', await direct(env), 'decrypt_failed');
    // A named target: the main window's label, and a name the main
    // window could have used. Neither reaches another window.
    const w = window.open('app://localhost/__test__/probe.html', 'main');
    check('settings: window.open with the target "main" opens nothing', w === null, String(w));
    // What must end with this page load: an envelope of its key, an
    // event its command sends later, a program it started.
    const att = await connectTo(isolationFrame());
    const sealed = await att.seal('greet', { name: big('sealed in settings') });
    await fs.writeTextFile(shared('settings-envelope'), toB64(sealed.envelope));
    invoke('emit_later', { name: 'late', after_ms: 1500 }).catch(() => {});
    const job = window.moat.shell.spawn('late', ['-c', 'sleep 2; touch "$1"', 'late', T.mark], { onOutput() {} });
    await job.started;
    await fs.writeTextFile(shared('settings-first-done'), '1');
    invoke('window.close').catch(() => {});
  } else {
    const old = fromB64(await waitFor('settings-envelope'));
    directRejects('settings: reopened, an envelope of its first page load does not open', await direct(old), 'decrypt_failed');
    check('settings: reopened, calls work under its new key', (await invoke('greet', { name: 'again' })) === 'Hello, again! (from Rust)');
    await sleep(3000);
    check('settings: the event a call of the closed page sent went nowhere', (await invoke('emit_later_result')) === 'page_gone');
    let mark = null;
    try { mark = await fs.readTextFile(T.markScoped); } catch (e) { mark = e.code; }
    check('settings: the program the closed page started ended with it', mark === 'not_found', mark);
    await fs.writeTextFile(shared('settings-second-done'), '1');
  }
}
