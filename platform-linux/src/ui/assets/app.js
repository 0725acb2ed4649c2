// failoverd web UI: keeps the status parts of the page current.
//
// Every element with a data-live attribute is replaced, every two seconds, by the
// fragment the server renders at that URL (escaped HTML, the same code as the full
// page). Forms are never live, so nothing the administrator types is lost. A 401
// means the session ended: go to the sign-in page. A failed fetch (the controller
// restarting) keeps the last view, marked stale.
(function () {
  "use strict";
  var PERIOD_MS = 2000;

  function refresh(el) {
    fetch(el.getAttribute("data-live"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) {
          window.location.assign("/login");
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (typeof html === "string") {
          el.innerHTML = html;
          el.classList.remove("stale");
        }
      })
      .catch(function () {
        el.classList.add("stale");
      });
  }

  setInterval(function () {
    document.querySelectorAll("[data-live]").forEach(refresh);
  }, PERIOD_MS);
})();
