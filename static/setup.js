// scimd's setup page: while a step of the connection waits, read the progress section again
// every few seconds and put it in place, so that the rest of the page (a token shown once)
// stays. Without this script the page refreshes itself instead (<noscript>).
(function () {
  "use strict";
  var every = 5000;
  function poll() {
    var section = document.getElementById("progress");
    if (!section || !section.dataset.waiting) { return; }
    fetch(section.dataset.progress, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var next = new DOMParser().parseFromString(html, "text/html").getElementById("progress");
          if (next) { section.replaceWith(document.adoptNode(next)); }
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
