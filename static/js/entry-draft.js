// Keeps what an officer types in this browser until the server has it, so a
// closed tab or a crash loses nothing: restored on return, cleared after a save.
(function () {
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = "entry-draft:" + form.dataset.draftKey;
  const version = form.querySelector("[name=version]");
  const fields = Array.from(form.querySelectorAll("input[name], textarea[name], select[name]"))
    .filter((el) => !["csrfmiddlewaretoken", "version"].includes(el.name));
  const saved = JSON.parse(localStorage.getItem(key) || "null");
  const serverVersion = version ? version.value : "";
  if (saved && saved.version === serverVersion && !form.dataset.hasErrors) {
    let restored = false;
    for (const el of fields) {
      if (el.name in saved.values && el.value !== saved.values[el.name]) {
        el.value = saved.values[el.name];
        restored = true;
      }
    }
    if (restored) {
      const note = document.getElementById("draft-restored");
      if (note) note.hidden = false;
    }
  }
  const remember = () => {
    const values = {};
    for (const el of fields) values[el.name] = el.value;
    localStorage.setItem(key, JSON.stringify({ version: serverVersion, values }));
  };
  form.addEventListener("input", remember);
  if (form.dataset.saved) localStorage.removeItem(key);
})();
