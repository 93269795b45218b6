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
    if (dialog && !dialog.hasAttribute('aria-label')) dialog.setAttribute('aria-label', 'Search');
  }
  if (typeof document$ !== 'undefined') document$.subscribe(focusableScrollers);
  else document.addEventListener('DOMContentLoaded', focusableScrollers);
})();
