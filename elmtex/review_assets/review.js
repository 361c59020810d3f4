// Review mode, optional: pick a missed item by selecting it in the report. The selection's
// code-point offsets in the report text go with the "add missed" form (start, end); the app
// checks them. Without this script the typed text is looked up in the report instead.
(function () {
  "use strict";
  var report = document.getElementById("report");
  var picked = null;
  function codePoints(s) { return Array.from(s).length; }
  document.addEventListener("selectionchange", function () {
    var sel = window.getSelection();
    if (!report || !sel || sel.rangeCount === 0 || sel.isCollapsed) { return; }
    var r = sel.getRangeAt(0);
    if (!report.contains(r.startContainer) || !report.contains(r.endContainer)) { return; }
    var before = document.createRange();
    before.setStart(report, 0);
    before.setEnd(r.startContainer, r.startOffset);
    var start = codePoints(before.toString());
    picked = {start: start, end: start + codePoints(r.toString()), text: r.toString()};
  });
  document.querySelectorAll("form.add-missed").forEach(function (form) {
    form.addEventListener("submit", function () {
      var text = form.querySelector('input[name="text"]');
      if (picked && !text.value.trim()) {
        form.querySelector('input[name="start"]').value = picked.start;
        form.querySelector('input[name="end"]').value = picked.end;
        text.value = picked.text.trim();
      }
    });
  });
})();
