// Programs run with no more than the entry names. `tool` is found on PATH
// at startup; its first run plants another `tool` earlier on PATH, which
// must never run. `env` and `pwd` show the environment and the directory.
const { shell } = window.moat;
const first = await shell.execute('tool');
check('shell: the program found at startup runs', first.stdout === 'real\n', first);
const second = await shell.execute('tool');
check('shell: a program planted on PATH later does not run instead', second.stdout === 'real\n', second);
const env = await shell.execute('env');
const vars = env.stdout.trim().split('\n').sort();
check('shell: the environment is the minimal one plus the entry\'s own',
  JSON.stringify(vars) === JSON.stringify(['EXTRA=yes', 'LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin']), vars);
check('shell: the app\'s secrets are not inherited', !env.stdout.includes('hunter2'), env.stdout);
const pwd = await shell.execute('pwd');
check('shell: the working directory is fixed', pwd.stdout === '/\n', pwd);
harness.done();
