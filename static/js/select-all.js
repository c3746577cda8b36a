// A "select all" button ticks every checkbox that belongs to the form it names
// (data-select-all="<form id>"), so a reviewer can act on a whole queue at once.
(function () {
  document.querySelectorAll("[data-select-all]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll('input[type=checkbox][form="' + button.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = true;
      });
    });
  });
})();
