// Draws each <figure class="chart"> from the table inside it, so the table stays
// the one source of the numbers: screen readers, copy-paste and printing read it,
// and the chart can never show a figure the page does not. Every bar and point
// links where its table cell (or its row header) links.
//
// Markup: templates/includes/chart_assets.html describes it. Chart types
// (data-chart): bar, stacked, line, percent. Needs static/vendor/chartjs loaded
// first (both scripts are deferred, so they run in order).
(function () {
  "use strict";

  const LOCALE = "zh-Hant-TW";
  const FONT_FAMILY = '"Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", sans-serif';
  // Okabe–Ito: distinguishable with the common colour-vision deficiencies;
  // yellow goes last because it is faint on white.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#555555", "#F0E442"];
  // Lines are also told apart by their markers, not by colour alone.
  const POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];
  const KIND_NAMES = { bar: "長條圖", stacked: "堆疊橫條圖", line: "折線圖", percent: "百分比橫條圖" };
  const LONG_LABEL = 14;

  const numbers = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

  function text(el) {
    return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // "" or a missing attribute is "no figure": Chart.js draws a gap for null,
  // where 0 would claim a figure nobody reported.
  function cellValue(cell) {
    const raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null || raw.trim() === "") return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  function linkOf(el) {
    const a = el ? el.querySelector("a[href]") : null;
    return a ? a.href : null;
  }

  function readTable(table) {
    const headRow = table.tHead ? table.tHead.rows[0] : null;
    // A column headed <th data-chart-skip> (a 合計, say) stays in the table only:
    // stacked on the others it would double every bar.
    const columns = (headRow ? Array.from(headRow.cells) : [])
      .map((th, index) => ({ th, index }))
      .filter(({ th, index }) => index > 0 && !th.hasAttribute("data-chart-skip"));
    const series = columns.map(({ th }) => ({ label: text(th), color: th.getAttribute("data-color") || null }));
    const categories = [];
    const values = series.map(() => []);
    const links = series.map(() => []);
    for (const body of Array.from(table.tBodies)) {
      for (const row of Array.from(body.rows)) {
        const header = row.cells[0];
        // A row without a row header (e.g. a "尚無資料" notice) is not data.
        if (!header || header.tagName !== "TH") continue;
        categories.push(text(header));
        const rowLink = linkOf(header);
        columns.forEach(({ index }, s) => {
          const cell = row.cells[index];
          values[s].push(cellValue(cell));
          links[s].push(linkOf(cell) || rowLink);
        });
      }
    }
    return { series, categories, values, links };
  }

  function formatNumber(value, unit) {
    if (value === null || value === undefined) return "無資料";
    const figure = numbers.format(value);
    if (!unit) return figure;
    return unit === "%" ? figure + "%" : figure + " " + unit;
  }

  // On a phone the category names would take half the width (and Chart.js cuts them off at
  // the left edge): they are shortened further there; the tooltip and the table keep them whole.
  const NARROW_CHART = 500;
  const NARROW_LABEL = 7;

  function shorten(label, chartWidth) {
    const longest = chartWidth && chartWidth < NARROW_CHART ? NARROW_LABEL : LONG_LABEL;
    return label.length > longest ? label.slice(0, longest - 1) + "…" : label;
  }

  function buildConfig(kind, data, unit) {
    const horizontal = kind === "stacked" || kind === "percent";
    const valueAxis = horizontal ? "x" : "y";
    const categoryAxis = horizontal ? "y" : "x";
    const percent = kind === "percent";
    const tickUnit = percent ? "%" : "";
    const tooltipUnit = unit || tickUnit;
    // Counts get whole-number ticks (no "0.5 件"); ratios and money keep decimals.
    const wholeNumbers = data.values.every((column) => column.every((v) => v === null || Number.isInteger(v)));

    const datasets = data.series.map((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      const dataset = { label: s.label, data: data.values[i], backgroundColor: color, borderColor: color };
      if (kind === "line") {
        Object.assign(dataset, {
          borderWidth: 2,
          pointStyle: POINT_STYLES[i % POINT_STYLES.length],
          pointRadius: 4,
          pointHoverRadius: 6,
          pointHitRadius: 10,
          spanGaps: false,
        });
      } else {
        dataset.maxBarThickness = 40;
      }
      return dataset;
    });

    const scales = {};
    scales[categoryAxis] = {
      stacked: kind === "stacked",
      offset: true, // keeps a line's first and last points off the chart's edges
      grid: { display: kind === "line" },
      ticks: {
        autoSkip: kind === "line", // every bar keeps its name; trend labels may thin out
        callback(value) {
          return shorten(String(this.getLabelForValue(value)), this.chart.width);
        },
      },
    };
    scales[valueAxis] = {
      stacked: kind === "stacked",
      beginAtZero: true,
      grace: percent ? 0 : "5%", // the highest bar or point does not touch the top
      ticks: {
        precision: wholeNumbers ? 0 : undefined,
        callback: (value) => numbers.format(value) + tickUnit,
      },
      title: { display: Boolean(unit), text: "單位：" + unit },
    };
    if (percent) Object.assign(scales[valueAxis], { min: 0, max: 100 });

    const tooltip = {
      mode: "index",
      intersect: kind !== "line",
      callbacks: {
        title: (items) => (items.length ? data.categories[items[0].dataIndex] : ""),
        label: (item) => item.dataset.label + "：" + formatNumber(item.raw, tooltipUnit),
      },
    };
    if (kind === "stacked") {
      tooltip.callbacks.footer = (items) => {
        const total = items.reduce((sum, item) => sum + (item.raw || 0), 0);
        return "合計：" + formatNumber(total, tooltipUnit);
      };
    }

    return {
      type: kind === "line" ? "line" : "bar",
      data: { labels: data.categories, datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        locale: LOCALE,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "nearest", intersect: true },
        scales,
        plugins: {
          legend: {
            position: "bottom",
            display: data.series.length > 1 || kind === "stacked",
            // Markers in the legend match the lines'; kept small beside the text.
            labels: kind === "line" ? { usePointStyle: true, boxWidth: 8, boxHeight: 8 } : {},
          },
          tooltip,
        },
        onClick(event, _active, chart) {
          const link = linkAt(chart, event, data.links);
          if (link) window.location.assign(link);
        },
        onHover(event, _active, chart) {
          chart.canvas.style.cursor = linkAt(chart, event, data.links) ? "pointer" : "";
        },
      },
    };
  }

  // The one bar or point under the pointer, even when the tooltip shows a
  // whole row: a stacked bar's segments go to different places.
  function linkAt(chart, event, links) {
    const hit = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, true)[0];
    return hit ? links[hit.datasetIndex][hit.index] : null;
  }

  // Without a chart the table is the figure: open it and drop the empty box.
  function showTableInstead(figure) {
    const details = figure.querySelector("details.chart-table");
    if (details) details.open = true;
    const box = figure.querySelector(".chart-canvas");
    if (box) box.hidden = true;
    figure.classList.add("chart-fallback");
  }

  function renderFigure(figure) {
    const Chart = window.Chart;
    const table = figure.querySelector("table");
    const box = figure.querySelector(".chart-canvas");
    if (typeof Chart !== "function" || !table || !box) {
      showTableInstead(figure);
      return null;
    }
    const kind = KIND_NAMES[figure.dataset.chart] ? figure.dataset.chart : "bar";
    const data = readTable(table);
    const hasFigures = data.values.some((column) => column.some((v) => v !== null));
    if (!data.categories.length || !hasFigures) {
      showTableInstead(figure);
      return null;
    }

    let canvas = box.querySelector("canvas");
    if (canvas) {
      const previous = Chart.getChart(canvas);
      if (previous) previous.destroy();
    } else {
      canvas = document.createElement("canvas");
      box.appendChild(canvas);
    }
    const caption = text(figure.querySelector("figcaption")) || text(table.caption);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", caption + "（" + KIND_NAMES[kind] + "，數據見下方表格）");

    try {
      return new Chart(canvas, buildConfig(kind, data, figure.dataset.unit || ""));
    } catch (error) {
      canvas.remove();
      showTableInstead(figure);
      console.error("chart not drawn", figure, error);
      return null;
    }
  }

  // render() draws every chart on the page; render(element) those inside it
  // (or that figure itself), e.g. after a fragment of the page was replaced.
  function render(root) {
    const scope = root || document;
    const figures = scope.matches && scope.matches("figure.chart") ? [scope] : Array.from(scope.querySelectorAll("figure.chart"));
    return figures.map(renderFigure).filter(Boolean);
  }

  if (typeof window.Chart === "function") {
    const defaults = window.Chart.defaults;
    defaults.font.family = FONT_FAMILY;
    defaults.font.size = 13;
    defaults.color = "#212529";
    defaults.animation = false;
  }

  window.portalCharts = { render };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => render());
  } else {
    render();
  }
})();
