// The camera wall: each picture on screen is asked for again every 10 seconds (the server
// keeps a picture 10 seconds for every viewer); pictures off screen wait.
(function () {
  "use strict";
  var EVERY_MS = 10000;
  var pictures = Array.prototype.slice.call(document.querySelectorAll("img.camera-picture[data-src]"));
  var visible = new Set();

  function load(img) {
    img.src = img.dataset.src + "?t=" + Date.now();
  }

  var watcher = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        if (!visible.has(entry.target)) { load(entry.target); }
        visible.add(entry.target);
      } else {
        visible.delete(entry.target);
      }
    });
  });
  pictures.forEach(function (img) {
    img.addEventListener("error", function () { img.classList.add("failed"); });
    img.addEventListener("load", function () { img.classList.remove("failed"); });
    watcher.observe(img);
  });
  setInterval(function () {
    if (!document.hidden) { visible.forEach(load); }
  }, EVERY_MS);
})();
