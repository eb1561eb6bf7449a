// The about window may call nothing but window.close (see windows.about
// in moat.json).
document.getElementById('close').addEventListener('click', () => window.moat.invoke('window.close'));
