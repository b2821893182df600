// Live preview of a profile edit: after a pause in typing, the form is posted (with its
// CSRF token) to the preview address and the panel is replaced by the answer. Without
// JavaScript the "Förhandsgranska" button does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("profile-form");
  var panel = document.getElementById("preview-panel");
  if (!form || !panel || !window.fetch) { return; }
  var timer = null;
  var asked = 0;
  function refresh() {
    var mine = ++asked;
    fetch(form.dataset.preview, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) { if (mine === asked) { panel.innerHTML = html; } })
      .catch(function () { /* the button still works */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 700);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
