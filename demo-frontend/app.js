// The demo page. It talks to Rust only through window.moat.invoke, which the
// Moat bridge defines before this script runs.

const { invoke } = window.moat;
const $ = (id) => document.getElementById(id);

function log(label, ok, value) {
  const li = document.createElement('li');
  li.className = ok ? 'ok' : 'err';
  li.textContent = `${label} → ${ok ? 'ok' : 'error'}: ${typeof value === 'string' ? value : JSON.stringify(value)}`;
  $('log').prepend(li);
}

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

// Attack lab: straight to the core, skipping the frame.
async function direct(label, body) {
  try {
    const res = await fetch('ipc://localhost/', { method: 'POST', body });
    const reply = await res.json();
    log(label, false, reply.err ? `${reply.err.code}: ${reply.err.message}` : reply);
  } catch (e) {
    log(label, false, String(e));
  }
}
$('forge').addEventListener('click', () => {
  const env = new Uint8Array(64);
  crypto.getRandomValues(env);
  env[0] = 1; // right version, random counter, ciphertext and tag
  direct('forged envelope', env);
});
$('empty').addEventListener('click', () => direct('empty body', new Uint8Array(0)));
$('raw').addEventListener('click', () => {
  window.addEventListener('moat-ipc-rejected', (ev) => log('raw window.ipc', false, `${ev.detail.code}: ${ev.detail.message}`), { once: true });
  window.ipc.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned' } }));
});
// The handler the isolation frame posts envelopes to is reachable from this
// page too; it refuses anything else in the promise its postMessage returns.
$('post').addEventListener('click', async () => {
  const label = 'raw post to messageHandlers.moat';
  try {
    const r = await window.webkit.messageHandlers.moat.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned' } }));
    log(label, true, r);
  } catch (e) {
    log(label, false, String(e && e.message || e));
  }
});
$('key').addEventListener('click', () => {
  const frame = document.querySelector('iframe[sandbox]');
  try {
    const doc = frame.contentDocument;
    if (doc) log('read frame document', true, `readable! ${doc.body.innerHTML.length} characters`);
    else log('read frame document', false, 'blocked: the frame is another origin (contentDocument is null)');
  } catch (e) {
    log('read frame document', false, `blocked: ${e}`);
  }
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
$('ssh').addEventListener('click', () => run('read ~/.ssh/id_rsa', fs.readTextFile('$HOME/.ssh/id_rsa')));
$('dotdot').addEventListener('click', () => run('read with ..', fs.readTextFile('$APPDATA/../../.bashrc')));
$('sh').addEventListener('click', () => run('shell.execute sh', shell.execute('sh', ['-c', 'id'])));
$('inject').addEventListener('click', () => run('uname with an injected argument', shell.execute('uname', ['-s; id'])));
$('open-file').addEventListener('click', () => run('open file:', shell.open('file:///etc/passwd')));
