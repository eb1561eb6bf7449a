// The built-in modules from the page, each scope attacked the way the
// advisories of other runtimes did. `T` (appdata, outside, port) is set by
// the Rust test, which checks the filesystem, the opener and the HTTP server
// afterwards.
const { fs, shell, http, assetUrl } = window.moat;

async function equals(name, promise, expected) {
  try {
    const v = await promise;
    check(name, JSON.stringify(v) === JSON.stringify(expected), { got: v, expected });
  } catch (e) {
    check(name, false, { code: e && e.code, message: e && e.message });
  }
}

// fs: inside the scope.
await equals('fs: write inside the scope', fs.writeTextFile('$APPDATA/notes.txt', 'hello'), 5);
await equals('fs: read it back by variable', fs.readTextFile('$APPDATA/notes.txt'), 'hello');
await equals('fs: read it back by absolute path', fs.readTextFile(T.appdata + '/notes.txt'), 'hello');
await equals('fs: overwrite is whole', fs.writeTextFile('$APPDATA/notes.txt', 'hi'), 2);
const listing = await fs.readDir('$APPDATA');
check('fs: listing shows what the scope covers and hides the rest',
  JSON.stringify(listing.map((e) => e.name)) === JSON.stringify(['link', 'notes.txt', 'public']), listing);

// fs: out of the scope, every way.
await rejects('fs: deny pattern wins over allow', fs.readTextFile('$APPDATA/secret/key.txt'), 'scope_denied', 'outside the fs scope');
await rejects('fs: a path outside the scope', fs.readTextFile(T.outside + '/secret.txt'), 'scope_denied');
await rejects('fs: a symlinked directory pointing out is followed and refused', fs.readTextFile('$APPDATA/link/secret.txt'), 'scope_denied');
await rejects('fs: `**` does not reach dotfiles', fs.readTextFile('$APPDATA/.hidden'), 'scope_denied');
await rejects('fs: `..` is refused before anything is opened', fs.readTextFile('$APPDATA/../outside/secret.txt'), 'path_invalid', 'must not contain');
await rejects('fs: a relative path is refused', fs.readTextFile('notes.txt'), 'path_invalid');
await rejects('fs: an unknown variable is refused', fs.readTextFile('$HOMEDIR/x'), 'path_invalid', 'unknown base-directory variable');
await rejects('fs: glob characters in a path are literal', fs.readTextFile('$APPDATA/*'), 'not_found');
await rejects('fs: a missing file is not_found', fs.readTextFile('$APPDATA/nope.txt'), 'not_found');
await rejects('fs: writing through a symlink out is refused', fs.writeTextFile('$APPDATA/link/evil.txt', 'x'), 'scope_denied');
await rejects('fs: writing into a denied directory is refused', fs.writeTextFile('$APPDATA/secret/key.txt', 'x'), 'scope_denied');
await rejects('fs: a function the allowlist leaves off is not_allowed', fs.removeFile('$APPDATA/notes.txt'), 'not_allowed');
await rejects('fs: unknown argument keys are refused', invoke('fs.read_text_file', { path: '$APPDATA/notes.txt', follow: true }), 'bad_args');

// fs: outside the scope by name, refused before anything is opened, with the
// same answer whether the path exists or not (no probing the disk).
const probes = [
  T.outside + '/secret.txt', T.outside + '/missing.txt', T.outside + '/nodir/x.txt', T.outside,
  '/root/.ssh/id_rsa', '/root/.ssh/nope', '/etc/shadow', '/etc/nope', '/home', '/nonexistent/dir/x',
  T.appdata + '//secret/key.txt', T.appdata + '/secret//key.txt', '$APPDATA/secret/key.txt', '$APPDATA/secret/missing.txt',
  '$APPDATA/.hidden', '$APPDATA/.missing', '$HOME/.bashrc',
];
const probeAnswers = new Set();
for (const p of probes) {
  for (const [what, call, named] of [['read', () => fs.readTextFile(p), p], ['list', () => fs.readDir(p), p], ['write', () => fs.writeTextFile(p + '.new', 'x'), p + '.new']]) {
    try {
      await call();
      check(`fs: ${what} of ${p} is refused by name`, false, 'resolved');
    } catch (e) {
      if (e.code !== 'scope_denied') check(`fs: ${what} of ${p} is refused by name`, false, { code: e.code, message: e.message });
      probeAnswers.add(String(e.message).split(named).join('<path>'));
    }
  }
}
check('fs: every probe outside the scope gets one answer, existing or not',
  probeAnswers.size === 1 && [...probeAnswers][0] === 'path `<path>` is outside the fs scope', [...probeAnswers]);
await rejects('fs: a hard link to a file outside is not read', fs.readTextFile('$APPDATA/public/linked.txt'), 'scope_denied', 'more than one hard link');

// asset: served inside scope.asset only, and never as active content.
const pub = await fetch(assetUrl(T.appdata + '/public/hello.txt'));
check('asset: a file inside the scope is served', pub.status === 200 && (await pub.text()) === 'public', pub.status);
check('asset: responses are sandboxed and nosniff',
  (pub.headers.get('content-security-policy') || '').startsWith('sandbox') && pub.headers.get('x-content-type-options') === 'nosniff',
  [...pub.headers]);
const part = await fetch(assetUrl(T.appdata + '/public/hello.txt'), { headers: { Range: 'bytes=1-3' } });
check('asset: a byte range is served as 206 with its Content-Range',
  part.status === 206 && (await part.text()) === 'ubl' && part.headers.get('content-range') === 'bytes 1-3/6',
  { status: part.status, range: part.headers.get('content-range') });
const whole = await fetch(assetUrl(T.appdata + '/public/big.bin'));
check('asset: a file over the message limit is not served whole', whole.status === 400, whole.status);
const head = await fetch(assetUrl(T.appdata + '/public/big.bin'), { headers: { Range: 'bytes=0-' } });
const headBytes = (await head.arrayBuffer()).byteLength;
check('asset: an open range of a large file gets one limit-sized part',
  head.status === 206 && headBytes === 65536 && head.headers.get('content-range') === 'bytes 0-65535/100000',
  { status: head.status, headBytes, range: head.headers.get('content-range') });
const past = await fetch(assetUrl(T.appdata + '/public/hello.txt'), { headers: { Range: 'bytes=10-' } });
check('asset: a range past the end is 416', past.status === 416, past.status);
const out = await fetch(assetUrl(T.appdata + '/notes.txt'));
check('asset: a file outside scope.asset is 403', out.status === 403, out.status);
const outMissing = await fetch(assetUrl(T.appdata + '/nope.txt'));
check('asset: a missing file outside scope.asset is 403 too', outMissing.status === 403, outMissing.status);
const inMissing = await fetch(assetUrl(T.appdata + '/public/nope.txt'));
check('asset: a missing file inside scope.asset is 404', inMissing.status === 404, inMissing.status);
for (const p of ['/etc/passwd', '/etc/nope', '/root/.ssh/id_rsa']) {
  const r = await fetch(assetUrl(p));
  check(`asset: ${p} is 403`, r.status === 403, r.status);
}
const hard = await fetch(assetUrl(T.appdata + '/public/linked.txt'));
check('asset: a hard link to a file outside is 403', hard.status === 403 && !(await hard.text()).includes('outside secret'), hard.status);
const viaLink = await fetch(assetUrl(T.appdata + '/public/out.txt'));
check('asset: a symlink out of the scope is 403', viaLink.status === 403, viaLink.status);
const img = new Image();
const loaded = await new Promise((r) => { img.onload = () => r(true); img.onerror = () => r(false); img.src = assetUrl(T.appdata + '/public/dot.png'); });
check('asset: <img> loads from asset: (the policy allows it)', loaded && img.naturalWidth === 1, img.naturalWidth);

// shell: entries by name, arguments checked one by one, no shell.
await equals('shell: an entry runs with valid arguments', shell.execute('echo', ['-n', 'hello world']), { code: 0, stdout: 'hello world', stderr: '' });
await rejects('shell: validators are anchored', shell.execute('echo', ['-n', 'hello; touch PWNED']), 'scope_denied', 'does not match the validator');
await rejects('shell: fixed arguments must be equal', shell.execute('echo', ['-e', 'hello']), 'scope_denied', 'must be "-n"');
await rejects('shell: the argument count is exact', shell.execute('echo', ['-n', 'a', 'b']), 'scope_denied', 'expected 2');
await rejects('shell: a program with no entry is refused', shell.execute('sh', ['-c', 'id']), 'scope_denied', 'no program named `sh`');
const meta = '$(touch PWNED); touch PWNED2 `touch PWNED3`';
await equals('shell: metacharacters reach the program as plain bytes', shell.execute('printf', ['%s', meta]), { code: 0, stdout: meta, stderr: '' });

// open: only https/http/mailto/tel, and only inside scope.open.
await equals('open: an allowed URL is handed to the opener', shell.open('https://example.com/docs?q=1'), null);
await equals('open: mailto inside the scope', shell.open('mailto:someone@example.com'), null);
for (const [what, url] of [['file', 'file:///etc/passwd'], ['smb', 'smb://host/share'], ['nfs', 'nfs://host/export'],
  ['javascript', 'javascript:alert(1)'], ['https outside the scope', 'https://evil.example.net/']]) {
  await rejects(`open: ${what} is refused`, shell.open(url), 'scope_denied');
}
await rejects('open: not a URL', shell.open('example.com'), 'url_invalid');

// http: inside scope.http, redirects re-checked at every hop.
const base = `http://127.0.0.1:${T.port}`;
const hello = await http.fetch(base + '/ok/hello');
check('http: a URL inside the scope is fetched', hello.status === 200 && hello.body === 'hello' && hello.headers['content-type'] === 'text/plain', hello);
const hop = await http.fetch(base + '/ok/redirect-in');
check('http: a redirect inside the scope is followed', hop.body === 'hello' && hop.url === base + '/ok/hello', hop);
await rejects('http: a redirect out of the scope is refused', http.fetch(base + '/ok/redirect-out'), 'scope_denied', '/forbidden/');
await rejects('http: a redirect to file: is refused', http.fetch(base + '/ok/redirect-file'), 'scope_denied', 'file:');
await rejects('http: a redirect to smb: is refused', http.fetch(base + '/ok/redirect-smb'), 'scope_denied', 'smb:');
const binary = await http.fetch(base + '/ok/bytes', { responseType: 'bytes' });
check('http: a response as bytes has every byte value', binary.body instanceof Uint8Array && binary.body.length === 256 && binary.body.every((b, i) => b === i), binary.body && binary.body.length);
const asText = await http.fetch(base + '/ok/bytes');
check('http: as text, what is not UTF-8 is replaced', typeof asText.body === 'string' && asText.body.includes('\ufffd'), typeof asText.body);
const echoed = await http.fetch(base + '/ok/echo', { method: 'POST', body: Uint8Array.from([0, 255, 10, 13]), responseType: 'bytes' });
check('http: a body of bytes is sent as is', echoed.body.join() === '0,255,10,13', echoed.body);
await rejects('http: responseType is text or bytes', http.fetch(base + '/ok/hello', { responseType: 'json' }), 'url_invalid', 'responseType');
await rejects('http: deny pattern wins', http.fetch(base + '/ok/secret'), 'scope_denied');
const auth = { headers: { Authorization: 'Bearer t0ken' } };
const same = await http.fetch(base + '/ok/redirect-same-origin', auth);
check('http: Authorization follows a same-origin redirect', same.body === 'with-auth', same);
const other = await http.fetch(base + '/ok/redirect-other-origin', auth);
check('http: Authorization is dropped on a redirect to another origin', other.body === 'no-auth' && other.url.startsWith('http://localhost:'), other);
await rejects('http: another host is refused even on the same address', http.fetch(`http://localhost:${T.port}/ok/hello`), 'scope_denied');
await rejects('http: credentials in the URL are refused', http.fetch(`http://127.0.0.1:${T.port}@evil.example.net/ok/hello`), 'url_invalid');
await rejects('http: file: is never fetched', http.fetch('file:///etc/passwd'), 'scope_denied');
await rejects('http: a Host header cannot pick another virtual host', http.fetch(base + '/ok/hello', { headers: { Host: 'internal.example' } }), 'scope_denied', 'forbidden request header');
await rejects('http: a header value cannot smuggle another header', http.fetch(base + '/ok/hello', { headers: { 'X-A': 'a\r\nX-Injected: 1' } }), 'scope_denied', 'control characters');
const custom = await http.fetch(base + '/ok/hello', { headers: { 'X-Moat-Test': 'yes' } });
check('http: an ordinary header is sent', custom.status === 200, custom);
await rejects('http: a response over the message limit is refused', http.fetch(base + '/ok/big'), 'http_failed', 'larger than limits.maxMessageBytes');
await rejects('http: an unknown method is refused', http.fetch(base + '/ok/hello', { method: 'TRACE' }), 'url_invalid');

harness.done();
