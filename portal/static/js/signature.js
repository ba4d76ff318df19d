// Drawn signatures on the acceptance form (progressive enhancement).
// Each [data-signature-pad] box is hidden until this runs; it then draws with the vendored
// signature_pad and writes a PNG data URL (at 1x, to stay small) into the hidden input named
// by data-target after every stroke. Without JavaScript the typed name alone signs.
(function () {
  if (window.portalSignature) { window.portalSignature.init(document); return; }

  function exportPng(canvas, pad) {
    if (pad.isEmpty()) { return ""; }
    // the canvas is drawn at the device's pixel ratio; the stored image needs no more than 1x
    var out = document.createElement("canvas");
    out.width = canvas.offsetWidth || canvas.width;
    out.height = canvas.offsetHeight || canvas.height;
    out.getContext("2d").drawImage(canvas, 0, 0, out.width, out.height);
    return out.toDataURL("image/png");
  }

  function setUp(box) {
    if (box.dataset.ready || typeof window.SignaturePad === "undefined") { return; }
    var canvas = box.querySelector("canvas");
    var input = document.getElementById(box.dataset.target);
    if (!canvas || !input) { return; }
    box.dataset.ready = "1";
    box.hidden = false;
    var pad = new window.SignaturePad(canvas, { penColor: "rgb(20, 30, 60)" });

    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (data.length) { pad.fromData(data); }
    }
    resize();
    window.addEventListener("resize", resize);
    // a refused submission comes back with the drawing kept in the hidden input
    if (input.value && input.value.indexOf("data:image/png;base64,") === 0) {
      pad.fromDataURL(input.value, { width: canvas.offsetWidth, height: canvas.offsetHeight });
    }
    pad.addEventListener("endStroke", function () { input.value = exportPng(canvas, pad); });
    var clear = box.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () { pad.clear(); input.value = ""; });
    }
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-signature-pad]")) { setUp(scope); }
    scope.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }

  window.portalSignature = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // panels swapped in by htmx
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
