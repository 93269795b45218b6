// Copy buttons on the generated pages: each row's button copies exactly that row's code (no
// line numbers); "Copy the whole module" copies the module's source, embedded in the page.
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
      copy(button.parentElement.querySelector('.lit-plain').value, button);
    } else {
      copy(JSON.parse(document.querySelector('.lit-module-source').textContent), button);
    }
  });
})();
