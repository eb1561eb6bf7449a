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
// shell.spawn starts programs the same way: the same environment and
// directory, and the program found at startup.
const spawned = async (name) => {
  let out = '';
  const exit = await shell.spawn(name, [], { onOutput: (stream, text) => { if (stream === 'stdout') out += text; } }).done;
  return { out, exit };
};
const spawnedEnv = await spawned('env');
const spawnedVars = spawnedEnv.out.trim().split('\n').sort();
check('spawn: the environment is the minimal one plus the entry\'s own',
  JSON.stringify(spawnedVars) === JSON.stringify(['EXTRA=yes', 'LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin']), spawnedVars);
const spawnedPwd = await spawned('pwd');
check('spawn: the working directory is fixed', spawnedPwd.out === '/\n', spawnedPwd);
const spawnedTool = await spawned('tool');
check('spawn: the program found at startup runs, not one planted on PATH', spawnedTool.out === 'real\n', spawnedTool);
harness.done();
