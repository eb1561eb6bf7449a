// Secrets in the user's keyring from page script. The test runs the app
// against a real gnome-keyring and reads the keyring back with secret-tool.
const { secrets } = window.moat;
const token = 'tok-' + 'Z9q'.repeat(8);
check('secrets: a name never set is null', (await secrets.get('apiToken')) === null);
check('secrets: set text', (await secrets.set('apiToken', token)) === null);
check('secrets: and it comes back as that text', (await secrets.get('apiToken')) === token);
const bytes = new Uint8Array([0, 1, 2, 250, 255, 0, 10]);
await secrets.set('blob', bytes);
const back = await secrets.get('blob');
check('secrets: bytes come back as bytes', back instanceof Uint8Array && back.join() === bytes.join(), back && String(back));
check('secrets: delete says it was there', (await secrets.delete('blob')) === true);
check('secrets: and then that it was not', (await secrets.delete('blob')) === false);
check('secrets: a deleted secret is null', (await secrets.get('blob')) === null);
await rejects('secrets: a name not listed is refused', secrets.get('otherToken'), 'scope_denied', 'secret `otherToken` is not one this window may read');
await rejects('secrets: a read-only name cannot be written', secrets.set('readOnly', 'x'), 'scope_denied', 'may write');
await rejects('secrets: a read-only name cannot be deleted', secrets.delete('readOnly'), 'scope_denied', 'may write');
await rejects('secrets: text and bytes at once are refused', invoke('secrets.set', { name: 'apiToken', text: 'a', bytes: new Uint8Array([1]) }), 'scope_denied', 'one of them');
await rejects('secrets: an unknown argument is refused', invoke('secrets.get', { name: 'apiToken', label: 'x' }), 'bad_args');
check('secrets: refused calls changed nothing', (await secrets.get('apiToken')) === token);
harness.done();
