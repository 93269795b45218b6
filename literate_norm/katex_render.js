// Renders every formula of a build in one process: reads [{tex, display}] as JSON on stdin,
// writes [{html} | {error}] as JSON on stdout. Run by literate.py; no network, no browser.
const katex = require('katex');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({tex, display}) => {
    try {
      // throwOnError: a malformed formula is an error the build reports, never red text on the page.
      // htmlAndMathml: the visual HTML (hidden from screen readers) and MathML beside it (read by
      // them, not shown); the TeX annotation inside the MathML is dropped, so neither the search
      // index nor a screen reader meets raw TeX
      const html = katex.renderToString(tex, {displayMode: display, throwOnError: true,
                                              output: 'htmlAndMathml'});
      return {html: html.replace(/<annotation encoding="application\/x-tex">[\s\S]*?<\/annotation>/g, '')};
    } catch (e) {
      return {error: String(e.message || e)};
    }
  });
  process.stdout.write(JSON.stringify(out));
});
