// Renders every formula of a build in one process: reads [{tex, display}] as JSON on stdin,
// writes [{html} | {error}] as JSON on stdout. Run by literate.py; no network, no browser.
const katex = require('katex');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({tex, display}) => {
    try {
      // throwOnError: a malformed formula is an error the build reports, never red text on the page
      return {html: katex.renderToString(tex, {displayMode: display, throwOnError: true, output: 'html'})};
    } catch (e) {
      return {error: String(e.message || e)};
    }
  });
  process.stdout.write(JSON.stringify(out));
});
