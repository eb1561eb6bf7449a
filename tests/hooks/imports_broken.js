// A test hook whose import throws while it loads.
import './broken.js';

export default function importsBroken() {}
