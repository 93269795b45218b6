// The page's language: the Chinese edition (under zh/) has <html lang="zh-CN">
var LIT_ZH = /^zh/.test(document.documentElement.lang);

// Copy buttons on the generated pages: each row's button copies exactly that row's code (no
// line numbers); "Copy the whole module" copies the module's source file, fetched from the site.
(function () {
  function flash(button) {
    button.setAttribute('data-copied', '');
    setTimeout(function () { button.removeAttribute('data-copied'); }, 1500);
  }
  function copy(text, button) {
    navigator.clipboard.writeText(text).then(function () { flash(button); });
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest('.lit-copy, .lit-copy-all');
    if (!button) return;
    if (button.classList.contains('lit-copy')) {
      // The text of the highlighted lines is the source, character for character
      var lines = button.parentElement.querySelectorAll('.lit-cl');
      copy(Array.prototype.map.call(lines, function (l) { return l.textContent; }).join('\n'), button);
    } else {
      // The module's source is shipped beside the page (the download link)
      var link = button.parentElement.querySelector('a[download]');
      fetch(link.href).then(function (r) { return r.text(); }).then(function (t) { copy(t, button); });
    }
  });
})();

// Material wraps wide tables in a scrolling box at run time; make each box reachable by keyboard
// (WCAG: a scrollable region must be focusable) once Material has built the page.
(function () {
  function focusableScrollers() {
    document.querySelectorAll('.md-typeset__scrollwrap').forEach(function (box) {
      box.setAttribute('tabindex', '0');
    });
    // Material's search overlay is a dialog without a name: give it one for screen readers
    var dialog = document.querySelector('.md-search[role="dialog"]');
    if (dialog && !dialog.hasAttribute('aria-label')) dialog.setAttribute('aria-label', LIT_ZH ? '搜索' : 'Search');
  }
  if (typeof document$ !== 'undefined') document$.subscribe(focusableScrollers);
  else document.addEventListener('DOMContentLoaded', focusableScrollers);
})();

// Click a name in the code (or reach it with the keyboard and press Enter) to mark it everywhere
// on the page: every code row, the prose's code spans, and the math symbol it stands for where
// the page declares one (front matter `symbols`, rendered into <template class="lit-symbol">).
// Clicking it again, or Escape, clears the marks. In each code block one name at a time is in
// the Tab order; the arrow keys Left and Right move between the names of the block.
(function () {
  var NAME = '.n, .nf, .nc, .nb, .bp, .fm, .nd, .ne';
  var marked = null, status = null;
  function names(root) { return root.querySelectorAll('.lit-src ' + NAME.split(', ').join(', .lit-src ')); }
  function isName(el) { return el && el.matches && el.closest('.lit-src') && el.matches(NAME); }
  function plain(text) { return text.replace(/[\u200b\s]/g, ''); }
  function symbolText(name) {
    // The visual HTML of the symbol KaTeX drew (its MathML beside it has the same letters)
    var t = document.querySelector('template.lit-symbol[data-name="' + name + '"]');
    var drawn = t && (t.content.querySelector('.katex-html') || t.content);
    return drawn ? plain(drawn.textContent) : null;
  }
  function announce(text) {
    if (!status) {
      status = document.createElement('div');
      status.className = 'lit-sr-only';
      status.setAttribute('role', 'status');
      document.body.appendChild(status);
    }
    status.textContent = text;
  }
  function clear() {
    document.querySelectorAll('.lit-mark').forEach(function (el) { el.classList.remove('lit-mark'); });
    document.querySelectorAll('.lit-src [aria-pressed]').forEach(function (el) {
      el.setAttribute('aria-pressed', 'false');
    });
    if (marked) announce(LIT_ZH ? '已清除标记' : 'Marks cleared');
    marked = null;
  }
  function mark(name) {
    clear();
    marked = name;
    var count = 0, word = new RegExp('(^|[^\\w])' + name + '($|[^\\w])');
    names(document).forEach(function (el) {
      if (el.textContent === name) { el.classList.add('lit-mark'); count++; }
    });
    document.querySelectorAll('.md-typeset :not(pre) > code').forEach(function (el) {
      if (word.test(el.textContent)) { el.classList.add('lit-mark'); count++; }
    });
    var symbol = symbolText(name), symbols = 0;
    if (symbol) {
      document.querySelectorAll('.katex-html .mord').forEach(function (el) {
        if (!el.parentElement.closest('.lit-mark') && plain(el.textContent) === symbol) {
          el.classList.add('lit-mark');
          symbols++;
        }
      });
    }
    document.querySelectorAll('.lit-src [aria-pressed]').forEach(function (el) {
      el.setAttribute('aria-pressed', String(el.textContent === name));
    });
    announce(LIT_ZH
      ? '已标记 ' + name + '：代码中 ' + count + ' 处' + (symbols ? '，公式中 ' + symbols + ' 处' : '') +
        '。按 Esc 清除。'
      : name + ' marked: ' + count + ' in code' + (symbols ? ', ' + symbols + ' in formulas' : '') +
        '. Escape clears.');
  }
  function toggle(el) { if (marked === el.textContent) clear(); else mark(el.textContent); }
  // The roving Tab stop of a code block: one name, a button that marks it
  function makeCurrent(el) {
    var pre = el.closest('.lit-src');
    pre.querySelectorAll('[tabindex]').forEach(function (other) {
      other.removeAttribute('tabindex');
      other.removeAttribute('role');
      other.removeAttribute('aria-pressed');
    });
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-pressed', String(marked === el.textContent));
  }
  function setUp() {
    document.querySelectorAll('pre.lit-src').forEach(function (pre) {
      var first = pre.querySelector(NAME);
      if (!first) return;
      pre.removeAttribute('tabindex');  // a name inside it is the block's Tab stop now
      makeCurrent(first);
    });
  }
  document.addEventListener('click', function (event) {
    var el = event.target;
    if (!isName(el)) return;
    makeCurrent(el);
    toggle(el);
  });
  document.addEventListener('keydown', function (event) {
    var el = event.target;
    if (event.key === 'Escape' && marked) { clear(); return; }
    if (!isName(el)) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      toggle(el);
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      var all = Array.prototype.slice.call(el.closest('.lit-src').querySelectorAll(NAME));
      var next = all[all.indexOf(el) + (event.key === 'ArrowRight' ? 1 : -1)];
      if (next) {
        event.preventDefault();
        makeCurrent(next);
        next.focus();
      }
    }
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setUp);
  else setUp();
})();

// The live matrix (LayerNorm vs BatchNorm page): every output is recomputed from the inputs as
// the reader types, in float64, with the biased variance and the page's epsilon, no gamma/beta.
// Pointing at (or focusing) a cell shows its statistics sets: its row for LayerNorm and RMSNorm,
// its column for BatchNorm.
(function () {
  function setUp(box) {
    var eps = parseFloat(box.dataset.eps);
    var inputs = Array.prototype.slice.call(box.querySelectorAll('.lit-matrix-in input'));
    var rows = 1 + Math.max.apply(null, inputs.map(function (i) { return +i.dataset.r; }));
    var cols = inputs.length / rows;
    var status = box.querySelector('.lit-matrix-status');
    function value(r, c) { return inputs[r * cols + c].value.trim() === '' ? NaN : +inputs[r * cols + c].value; }
    // Mean and biased variance of a list; RMSNorm uses the mean of squares instead
    function normalize(values, kind) {
      var n = values.length, mean = 0, sq = 0;
      values.forEach(function (v) { mean += v / n; sq += v * v / n; });
      if (kind === 'rms') return values.map(function (v) { return v / Math.sqrt(sq + eps); });
      var variance = 0;
      values.forEach(function (v) { variance += (v - mean) * (v - mean) / n; });
      return values.map(function (v) { return (v - mean) / Math.sqrt(variance + eps); });
    }
    function show(v) { return Math.abs(v) < 5e-5 ? '0.0000' : v.toFixed(4); }
    function update() {
      var bad = inputs.filter(function (i) { return !isFinite(value(+i.dataset.r, +i.dataset.c)); });
      inputs.forEach(function (i) { i.setAttribute('aria-invalid', String(bad.indexOf(i) >= 0)); });
      box.querySelectorAll('.lit-matrix-out').forEach(function (table) {
        var kind = table.dataset.kind, out = [];
        for (var r = 0; r < rows; r++) out.push([]);
        if (kind === 'batch') {
          for (var c = 0; c < cols; c++) {
            var col = [];
            for (var r2 = 0; r2 < rows; r2++) col.push(value(r2, c));
            normalize(col, kind).forEach(function (v, r3) { out[r3][c] = v; });
          }
        } else {
          for (var r4 = 0; r4 < rows; r4++) {
            var row = [];
            for (var c2 = 0; c2 < cols; c2++) row.push(value(r4, c2));
            out[r4] = normalize(row, kind);
          }
        }
        table.querySelectorAll('td[data-r]').forEach(function (td) {
          var v = out[+td.dataset.r][+td.dataset.c];
          td.textContent = isFinite(v) ? show(v) : '—';
        });
      });
      status.textContent = bad.length
        ? (LIT_ZH ? '不是数字：' : 'Not a number: ') +
          bad.map(function (i) { return i.getAttribute('aria-label'); }).join('; ') +
          (LIT_ZH ? '。用到它的输出显示为短横线。' : '. The outputs that need it show a dash.')
        : '';
    }
    function highlight(r, c) {
      box.querySelectorAll('.lit-in-row, .lit-in-col').forEach(function (el) {
        el.classList.remove('lit-in-row', 'lit-in-col');
      });
      if (r === null) return;
      box.querySelectorAll('[data-r]').forEach(function (el) {
        var cell = el.tagName === 'INPUT' ? el.parentElement : el;
        var table = cell.closest('table'), kind = table.dataset.kind;
        var rowSet = +el.dataset.r === r && kind !== 'batch';
        var colSet = +el.dataset.c === c && (kind === 'batch' || !kind);
        if (rowSet) cell.classList.add('lit-in-row');
        if (colSet) cell.classList.add('lit-in-col');
      });
    }
    function cellOf(event) {
      var el = event.target.closest('[data-r]');
      return el && box.contains(el) ? [+el.dataset.r, +el.dataset.c] : null;
    }
    box.addEventListener('input', update);
    ['pointerover', 'focusin'].forEach(function (type) {
      box.addEventListener(type, function (event) {
        var at = cellOf(event);
        if (at) highlight(at[0], at[1]);
      });
    });
    box.addEventListener('pointerleave', function () { highlight(null); });
    box.querySelector('.lit-matrix-reset').addEventListener('click', function () {
      var start = box.dataset.start.split(';').map(function (row) { return row.split(','); });
      inputs.forEach(function (i) { i.value = start[+i.dataset.r][+i.dataset.c]; });
      update();
      status.textContent = LIT_ZH ? '已恢复为示例的数值' : 'Reset to the worked example';
    });
    update();
  }
  function all() { document.querySelectorAll('.lit-matrix').forEach(setUp); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', all);
  else all();
})();

// A link to a row inside folded checks (`<details class="lit-fold">`) opens the fold, so every
// claim's link to its check works in one click
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    var fold = target && target.closest('details.lit-fold');
    if (fold && !fold.open) {
      fold.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener('hashchange', openTarget);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', openTarget);
  else openTarget();
})();
