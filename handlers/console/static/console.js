// Staff console: small behaviours without inline scripts (the CSP allows
// only this file and htmx).
document.addEventListener("click", function (e) {
  var back = e.target.closest("[data-back]");
  if (back && history.length > 1) { e.preventDefault(); history.back(); }
});
// <form data-confirm="…">: ask before a destructive action.
document.addEventListener("submit", function (e) {
  var f = e.target;
  var msg = f.getAttribute && f.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
// Live preview: any input inside [data-preview-form] re-renders the preview via htmx.
