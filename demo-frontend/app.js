// The demo page. It talks to Rust only through window.moat.invoke, which the
// Moat bridge defines before this script runs.

const { invoke } = window.moat;
const $ = (id) => document.getElementById(id);

function log(label, ok, value) {
  const li = document.createElement('li');
  li.className = ok ? 'ok' : 'err';
  li.textContent = `${label} → ${ok ? 'ok' : 'error'}: ${typeof value === 'string' ? value : JSON.stringify(value)}`;
  li.title = li.textContent;
  $('log').prepend(li);
  fitLog();
}

// The log keeps the newest entries, as many as fit its box, also when the
// box shrinks: a list that overflows would make WebKitGTK render after
// every reply (docs/webkitgtk.md).
function fitLog() {
  const list = $('log');
  while (list.scrollHeight > list.clientHeight && list.childElementCount > 1) list.lastElementChild.remove();
}
new ResizeObserver(fitLog).observe($('log'));

async function call(label, cmd, args) {
  try {
    log(label, true, await invoke(cmd, args));
  } catch (e) {
    log(label, false, `${e.code}: ${e.message}${e.data ? ' ' + JSON.stringify(e.data) : ''}`);
  }
}

// A call made while the page loads, before the isolation frame is ready: the
// bridge queues it and sends it once the frame has its key.
invoke('greet', { name: 'startup' }).then(
  (r) => { $('startup').textContent = r; },
  (e) => { $('startup').textContent = `startup call failed: ${e.code}`; },
);

window.moat.ready.then(
  () => { $('status').textContent = 'isolation frame ready'; },
  (e) => { $('status').textContent = `isolation unavailable (${e.code})`; },
);

$('greet-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  call('greet', 'greet', { name: $('name').value });
});
$('report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  call('write_report', 'write_report', { contents: $('contents').value });
});
$('read').addEventListener('click', () => call('read_report', 'read_report'));
$('big').addEventListener('click', () => call('write_report (65 KiB)', 'write_report', { contents: 'x'.repeat(65 * 1024) }));
$('unknown').addEventListener('click', () => call('unknown command', 'format_disk', {}));
$('badargs').addEventListener('click', () => call('greet {Name}', 'greet', { Name: 'Ada' }));
$('fail').addEventListener('click', () => call('fail', 'fail'));
$('panic').addEventListener('click', () => call('panic', 'panic'));

// Attack lab: straight to the core, skipping the frame. Each attack is
// registered with the code the core refuses it with; its badge shows how
// many refusals of that code the core has counted since launch.
const LAB = new Map();
function lab(id, code, attack) {
  const badge = document.createElement('output');
  badge.className = 'count';
  badge.id = `count-${id}`;
  badge.title = `refusals with code ${code} counted by the core since launch`;
  badge.dataset.code = code;
  $(id).after(badge);
  LAB.set(id, code);
  $(id).addEventListener('click', () => attack().finally(showCounts));
}
async function showCounts() {
  let counts;
  try {
    counts = await invoke('refusal_counts');
  } catch (e) {
    return;
  }
  for (const [id, code] of LAB) $(`count-${id}`).textContent = `×${counts[code] || 0}`;
}
window.moat.ready.then(showCounts, () => {});

async function direct(label, body) {
  try {
    const res = await fetch('ipc://localhost/', { method: 'POST', body });
    const reply = await res.json();
    log(label, false, reply.err ? `${reply.err.code}: ${reply.err.message}` : reply);
  } catch (e) {
    log(label, false, String(e));
  }
}
lab('forge', 'decrypt_failed', () => {
  const env = new Uint8Array(64);
  crypto.getRandomValues(env);
  env[0] = 1; // right version, random counter, ciphertext and tag
  return direct('forged envelope', env);
});
lab('empty', 'not_an_envelope', () => direct('empty body', new Uint8Array(0)));
lab('raw', 'not_an_envelope', () => new Promise((resolve) => {
  window.addEventListener('moat-ipc-rejected', (ev) => {
    log('raw window.ipc', false, `${ev.detail.code}: ${ev.detail.message}`);
    resolve();
  }, { once: true });
  window.ipc.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned' } }));
}));
// The handler the isolation frame posts envelopes to is reachable from this
// page too; it refuses anything else in the promise its postMessage returns.
lab('post', 'not_an_envelope', async () => {
  const label = 'raw post to messageHandlers.moat';
  try {
    const r = await window.webkit.messageHandlers.moat.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned' } }));
    log(label, true, r);
  } catch (e) {
    log(label, false, String(e && e.message || e));
  }
});
// The key lives in the frame's realm, on another origin: its document is
// not readable from here, and a second isolation frame is served without one.
lab('key', 'no_key', async () => {
  const frame = document.querySelector('iframe[sandbox]');
  try {
    const doc = frame.contentDocument;
    if (doc) log('read frame document', true, `readable! ${doc.body.innerHTML.length} characters`);
    else log('read frame document', false, 'blocked: the frame is another origin (contentDocument is null)');
  } catch (e) {
    log('read frame document', false, `blocked: ${e}`);
  }
  const second = document.createElement('iframe');
  second.sandbox = 'allow-scripts';
  second.hidden = true;
  const said = new Promise((resolve) => {
    const hear = (ev) => {
      if (ev.source !== second.contentWindow) return;
      window.removeEventListener('message', hear);
      resolve(ev.data);
    };
    window.addEventListener('message', hear);
    setTimeout(() => resolve(null), 5000);
  });
  second.src = 'isolation://localhost/';
  document.body.append(second);
  const ready = await said;
  second.remove();
  log('open a second isolation frame', !!(ready && ready.ok), ready ? `${ready.code}: ${ready.message}` : 'no answer');
});

// Built-in modules, each through the same isolation frame and hooks, then
// checked against its scope in moat.json.
const NOTES = '$APPDATA/notes.txt';
async function run(label, promise) {
  try {
    log(label, true, await promise);
  } catch (e) {
    log(label, false, `${e.code}: ${e.message}`);
  }
}
const { fs, shell } = window.moat;
$('notes-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  run('fs.writeTextFile', fs.writeTextFile(NOTES, $('notes').value));
});
$('notes-read').addEventListener('click', () => run('fs.readTextFile', fs.readTextFile(NOTES)));
$('notes-list').addEventListener('click', () => run('fs.readDir', fs.readDir('$APPDATA').then((l) => l.map((e) => e.name + (e.isDir ? '/' : '')))));
$('uname').addEventListener('click', () => run('shell.execute uname -s', shell.execute('uname', ['-s']).then((o) => o.stdout.trim())));
$('open-gh').addEventListener('click', () => run('shell.open', shell.open('https://github.com/')));
// Other windows, each with only what moat.json declares for it: settings
// (its own key and a smaller allowlist) and an untrusted view with no
// bridge at all, whose end (or closing) comes back here as an event.
$('open-settings').addEventListener('click', () => run('window.open settings', invoke('window.open', { label: 'settings' })));
$('open-docs').addEventListener('click', () => run('window.open docs', invoke('window.open', { label: 'docs' })));
// The theme the settings window keeps in the store: applied at load and
// on each change.
const applyTheme = async () => {
  document.documentElement.dataset.theme = (await window.moat.store.get('settings.theme').catch(() => null)) || 'light';
};
window.moat.ready.then(applyTheme, () => {});
window.moat.listen('moat:store-changed', (c) => { if (c.key === 'settings.theme') applyTheme(); });
// Links the app was opened with (moat-demo://…), checked by Moat before
// they arrive; a second launch hands its link to this instance.
window.moat.listen('moat:launch', (a) => log('opened with', true, a.url || a.file));
window.moat.listen('moat:view-finished', (v) => log(`view ${v.label} finished at`, true, v.url));
window.moat.listen('moat:view-closed', (v) => log(`view ${v.label} closed by the user`, true, v.label));
lab('ssh', 'scope_denied', () => run('read ~/.ssh/id_rsa', fs.readTextFile('$HOME/.ssh/id_rsa')));
lab('dotdot', 'path_invalid', () => run('read with ..', fs.readTextFile('$APPDATA/../../.bashrc')));
lab('sh', 'scope_denied', () => run('shell.execute sh', shell.execute('sh', ['-c', 'id'])));
lab('inject', 'scope_denied', () => run('uname with an injected argument', shell.execute('uname', ['-s; id'])));
lab('open-file', 'scope_denied', () => run('open file:', shell.open('file:///etc/passwd')));

// Push: a channel for the long work's progress, and the clock's event.
const { Channel, listen } = window.moat;
$('work').addEventListener('click', async () => {
  $('work').disabled = true;
  $('work-status').textContent = 'working…';
  const progress = new Channel(({ done, total }) => {
    $('work-progress').max = total;
    $('work-progress').value = done;
    $('work-status').textContent = `${done} of ${total}`;
  });
  try {
    $('work-status').textContent = await invoke('long_work', { steps: 40, step_ms: 50, progress });
  } catch (e) {
    $('work-status').textContent = `${e.code}: ${e.message}`;
  } finally {
    $('work').disabled = false;
  }
});
listen('clock', (now) => { $('clock').textContent = now; });

// A program that runs for a while, its output streamed as it comes.
let job = null;
$('spawn').addEventListener('click', async () => {
  $('spawn').disabled = true;
  $('spawn-output').textContent = '';
  $('spawn-status').textContent = 'starting…';
  job = window.moat.shell.spawn('ticker', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.5; done'], {
    onOutput: (stream, text) => {
      // The last two lines: the box keeps its size (see style.css).
      const lines = ($('spawn-output').textContent + text).split('\n');
      $('spawn-output').textContent = lines.slice(-3).join('\n');
    },
  });
  try {
    await job.started;
    $('spawn-kill').disabled = false;
    $('spawn-status').textContent = 'running';
    const { code, killed } = await job.done;
    $('spawn-status').textContent = killed ? 'killed' : `exited with ${code}`;
  } catch (e) {
    $('spawn-status').textContent = `${e.code}: ${e.message}`;
  } finally {
    $('spawn').disabled = false;
    $('spawn-kill').disabled = true;
  }
});
$('spawn-kill').addEventListener('click', () => job && job.kill());

// A file the user picks (granted to fs for this page), read as bytes and
// hashed in Rust.
$('pick').addEventListener('click', async () => {
  try {
    const path = await window.moat.dialog.open();
    if (path === null) {
      $('picked').textContent = 'cancelled';
      return;
    }
    const data = await fs.readFile(path);
    const sha = await invoke('bytes_sha256', { data });
    $('picked').textContent = `${path}: ${data.length} bytes, SHA-256 ${sha}`;
  } catch (e) {
    $('picked').textContent = `${e.code}: ${e.message}`;
  }
});
