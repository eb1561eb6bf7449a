// URL scopes judge the form that is sent. `T.port` is a recording HTTP
// server listening on every local address ([::], dual-stack), so any
// spelling of this machine that got through would reach it; the Rust test
// reads what it saw and what the opener received.
//   scope.http: allow http://127.0.0.1:*/pub/**, http://*:*/any/**
//               deny  http://127.0.0.1:*/pub/admin/**
//   scope.open: allow https://example.com/**, http://*/**, mailto:*@example.com, tel:+1555*
//               deny  https://example.com/private/**
const { http, shell } = window.moat;
const P = T.port;
const base = `http://127.0.0.1:${P}`;

const ok = await http.fetch(base + '/pub/hello');
check('http: the allowed path is fetched', ok.status === 200 && ok.body === 'public:/pub/hello', ok);
const enc = await http.fetch(base + '/pub/%68%65llo');
check('http: unreserved escapes are sent decoded', enc.body === 'public:/pub/hello' && enc.url === base + '/pub/hello', enc);
const sp = await http.fetch(base + '/pub/my%20file;v=1');
check('http: a space and a ; are sent encoded, as judged', sp.body === 'public:/pub/my%20file%3Bv=1', sp);

// Every spelling of the denied directory is denied.
for (const path of [
  '/pub/admin/secret', '/pub/admin', '/pub/admin/', '/pub/%61dmin/secret', '/pub/%61%64%6d%69%6e/secret',
  '/pub/ADMIN/secret', '/pub/Admin', '/pub/aDmIn/', '/pub/x/../admin/secret', '/pub/x/%2e%2e/admin/secret',
  '/pub/x/%2E%2E/admin/secret', '/pub/x/.%2e/admin/secret', '/pub/./admin/secret', '/pub/%2e/admin/secret',
  '/pub\\admin\\secret', '/pub/x/..\\admin/secret',
]) {
  await rejects(`http: ${path} is denied`, http.fetch(base + path), 'scope_denied');
}
// Spellings servers read differently are refused outright.
for (const path of [
  '/pub//admin/secret', '/pub/admin%2Fsecret', '/pub/admin%2fsecret', '/pub/admin%5Csecret',
  '/pub/%2e%2e%2fadmin', '/pub/x/%252e%252e/admin/secret', '/pub/%252e%252e/secret', '/pub/..;/pub/admin/secret',
  '/pub/.;x/admin/secret', '/pub/%00/x', '/pub/a%0d%0aX-Injected:%201', '/pub/%ff', '/pub/%c0%ae%c0%ae/secret',
]) {
  await rejects(`http: ${path} is ambiguous`, http.fetch(base + path), 'url_invalid');
}
// Escaping the allowed directory.
for (const path of ['/pub/%2e%2e/secret', '/pub/../secret', '/secret', '/pubx/secret']) {
  await rejects(`http: ${path} is outside the scope`, http.fetch(base + path), 'scope_denied');
}

// Every other spelling of this machine, through the any-host pattern: the
// address is checked, not the name.
for (const host of [
  `localhost:${P}`, `localhost.:${P}`, `LOCALHOST:${P}`, `[::1]:${P}`, `[::ffff:127.0.0.1]:${P}`,
  `[::ffff:7f00:1]:${P}`, `[0:0:0:0:0:ffff:127.0.0.1]:${P}`, `127.0.0.2:${P}`, `127.1:${P}`, `2130706433:${P}`,
  `0x7f000001:${P}`, `0177.0.0.1:${P}`, `0.0.0.0:${P}`, `0:${P}`, `[::]:${P}`, `127.0.0.1:${P}`,
]) {
  await rejects(`http: ${host} is refused as this machine`, http.fetch(`http://${host}/any/x`), 'scope_denied', 'this machine');
}
await rejects('http: link-local (metadata) is refused', http.fetch('http://169.254.169.254/any/latest'), 'scope_denied', 'link-local');
await rejects('http: a private address is refused', http.fetch('http://10.0.0.1/any/x'), 'scope_denied', 'private network');
// The named address, in its other spelling, is the same address.
const mapped = await http.fetch(`http://[::ffff:127.0.0.1]:${P}/pub/mapped`);
check('http: the IPv4-mapped spelling of the named address is that address', mapped.body === 'public:/pub/mapped' && mapped.url === base + '/pub/mapped', mapped);
await rejects('http: …and its denied paths stay denied', http.fetch(`http://[::ffff:127.0.0.1]:${P}/pub/%61dmin/x`), 'scope_denied');

// open: what each scheme may carry.
await check('open: a mailto with a subject is passed', (await shell.open('mailto:Someone@example.com?subject=Hi%20there')) === null);
await check('open: a tel number is passed without separators', (await shell.open('tel:+1 555 (010) 0199')) === null);
await check('open: an http URL is passed in canonical form', (await shell.open('http://example.org/%61/b')) === null);
for (const url of [
  'mailto:someone@example.com?attach=/root/.ssh/id_rsa', 'mailto:someone@example.com?Attachment=x',
  'mailto:someone@example.com?bcc=evil@attacker.net', 'mailto:someone@example.com?cc=evil@attacker.net',
  'mailto:someone@example.com?to=evil@attacker.net', 'mailto:evil@attacker.net,someone@example.com',
  'mailto:evil@attacker.net%2Csomeone@example.com', 'mailto:someone@example.com;evil@attacker.net',
  'mailto:Evil%20%3Cevil@attacker.net%3E%20someone@example.com', 'mailto:someone@example.com?subject=a%0D%0Abcc:evil@attacker.net',
  'mailto:someone@example.com?subject=a&subject=b', 'tel:+1555;ext=99', 'tel:+1555?call=1', 'tel:*31#+15550100',
]) {
  await rejects(`open: ${url} is refused`, shell.open(url), 'scope_denied');
}
for (const url of [
  'http://127.0.0.1/', 'http://127.0.0.1:631/admin', 'http://localhost:631/', 'http://localhost./', 'http://[::1]/',
  'http://[::ffff:7f00:1]/', 'http://0.0.0.0/', 'http://192.168.0.1/', 'http://169.254.169.254/latest/meta-data',
]) {
  await rejects(`open: ${url} is refused`, shell.open(url), 'scope_denied');
}
for (const url of ['https://example.com/private/x', 'https://example.com/%70rivate/x', 'https://example.com/PRIVATE', 'https://example.com/private']) {
  await rejects(`open: ${url} is denied`, shell.open(url), 'scope_denied');
}

harness.done();
