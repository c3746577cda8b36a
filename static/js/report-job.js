// Polls a report job's status while it is queued or running, updates the progress bar,
// and reloads the page once when the job finishes so its files and actions appear.
(function () {
  "use strict";
  const box = document.getElementById("job-status");
  if (!box || box.dataset.active !== "1") return;
  const bar = box.querySelector(".progress-bar");
  const meter = document.getElementById("job-progress");
  const text = document.getElementById("job-progress-text");
  let delay = 1500;

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        bar.style.width = job.progress + "%";
        bar.textContent = job.progress + "%";
        meter.setAttribute("aria-valuenow", job.progress);
        text.textContent = job.progress_text;
        if (!job.active) {
          window.location.reload();
          return;
        }
        delay = 1500;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);  // the server is busy or restarting: back off
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
