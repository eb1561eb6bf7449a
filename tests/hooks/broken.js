// A test hook that throws while it loads.
throw new Error('broken.js: this hook fails at load');
