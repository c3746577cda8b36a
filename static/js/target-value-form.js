// Shows the fields a target value of the chosen kind uses (數值、單位、比較方式 for counts,
// ratios, amounts and at-least values; 等級 for grades; 完成期限 for milestones). Without
// this script every field stays visible, and the server ignores those the kind does not use.
(function () {
  const kind = document.querySelector("select[name=kind]");
  if (!kind) return;
  const numeric = ["count", "ratio", "money", "maintain"];
  const uses = {
    quantity: (k) => numeric.includes(k),
    unit: (k) => numeric.includes(k),
    comparator: (k) => numeric.includes(k),
    grade: (k) => k === "grade",
    due_on: (k) => k === "milestone",
  };
  function apply() {
    for (const [name, used] of Object.entries(uses)) {
      const field = document.querySelector(`[name=${name}]`);
      if (!field) continue;
      const box = field.closest(".mb-3");
      if (box) box.hidden = !used(kind.value) && !field.value;
    }
    document.querySelectorAll("[name^=share_]").forEach((field) => {
      const box = field.closest(".mb-3");
      if (box) box.hidden = !numeric.includes(kind.value);
    });
  }
  kind.addEventListener("change", apply);
  apply();
})();
