"""Charts are drawn from the table beside them, in Traditional Chinese, and every
bar and point links where its table cell does; without Chart.js the table shows.

No dashboard page exists yet, so the test serves one page of the four chart kinds
at an address on the live server (Playwright answers that one request); the
page's static files and the assets include are the real ones."""

import pytest
from django.template import engines
from playwright.sync_api import expect

PAGE = """{% load static %}<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>圖表測試</title>
<link rel="stylesheet" href="{% static 'vendor/bootstrap/bootstrap.min.css' %}">
<link rel="stylesheet" href="{% static 'css/portal.css' %}">
</head><body><main class="container-fluid py-3"><div class="row">
{% include "includes/chart_assets.html" %}
<div class="col-6">
<figure class="chart" id="bar" data-chart="bar" data-unit="件" aria-labelledby="bar-caption">
  <figcaption id="bar-caption">各機關受理案件數</figcaption>
  <div class="chart-canvas" style="height: 280px"></div>
  <details class="chart-table"><summary>以表格檢視數據</summary>
  <table class="table table-sm"><caption>各機關受理案件數</caption>
    <thead><tr><th scope="col">機關</th><th scope="col">112年</th><th scope="col">113年</th></tr></thead>
    <tbody>
      <tr><th scope="row"><a href="#bar-row-moj">法務部</a></th>
          <td data-value="1234.5"><a href="#bar-moj-112">1,234.5</a></td><td data-value="980">980</td></tr>
      <tr><th scope="row"><a href="#bar-row-motc">交通部</a></th>
          <td data-value="640"><a href="#bar-motc-112">640</a></td><td data-value="">—</td></tr>
      <tr><th scope="row">經濟部</th><td data-value="455">455</td><td data-value="512"><a href="#bar-moea-113">512</a></td></tr>
    </tbody>
  </table></details>
</figure>
</div><div class="col-6">
<figure class="chart" id="stacked" data-chart="stacked" aria-labelledby="stacked-caption">
  <figcaption id="stacked-caption">各具體策略目標值達成情形</figcaption>
  <div class="chart-canvas" style="height: 280px"></div>
  <details class="chart-table"><summary>以表格檢視數據</summary>
  <table class="table table-sm"><caption>各具體策略目標值達成情形</caption>
    <thead><tr><th scope="col">具體策略</th>
      <th scope="col" data-color="#198754">已達成</th><th scope="col" data-color="#0d6efd">進度符合</th>
      <th scope="col" data-color="#dc3545">落後</th><th scope="col" data-color="#6c757d">未填報</th>
      <th scope="col" data-chart-skip>合計</th></tr></thead>
    <tbody>
      <tr><th scope="row"><a href="#strategy-1">一、加強廉政教育</a></th>
          <td data-value="3"><a href="#strategy-1-done">3</a></td><td data-value="1">1</td><td data-value="0">0</td><td data-value="2">2</td><td data-value="6">6</td></tr>
      <tr><th scope="row"><a href="#strategy-2">二、強化企業誠信，凝聚私部門反貪腐共識</a></th>
          <td data-value="5">5</td><td data-value="2">2</td><td data-value="1"><a href="#strategy-2-late">1</a></td><td data-value="0">0</td><td data-value="8">8</td></tr>
      <tr><th scope="row"><a href="#strategy-3">三、落實公職人員利益衝突迴避</a></th>
          <td data-value="1">1</td><td data-value="4">4</td><td data-value="2">2</td><td data-value="1">1</td><td data-value="8">8</td></tr>
    </tbody>
  </table></details>
</figure>
</div><div class="col-6">
<figure class="chart" id="line" data-chart="line" data-unit="案" aria-labelledby="line-caption">
  <figcaption id="line-caption">各季查獲貪瀆案件趨勢</figcaption>
  <div class="chart-canvas" style="height: 280px"></div>
  <details class="chart-table"><summary>以表格檢視數據</summary>
  <table class="table table-sm"><caption>各季查獲貪瀆案件趨勢</caption>
    <thead><tr><th scope="col">季別</th><th scope="col">112年</th><th scope="col">113年</th></tr></thead>
    <tbody>
      <tr><th scope="row">第1季</th><td data-value="52">52</td><td data-value="61"><a href="#line-113-q1">61</a></td></tr>
      <tr><th scope="row">第2季</th><td data-value="48">48</td><td data-value="70">70</td></tr>
      <tr><th scope="row">第3季</th><td data-value="66"><a href="#line-112-q3">66</a></td><td>—</td></tr>
      <tr><th scope="row">第4季</th><td data-value="71">71</td><td data-value="75">75</td></tr>
    </tbody>
  </table></details>
</figure>
</div><div class="col-6">
<figure class="chart" id="percent" data-chart="percent" aria-labelledby="percent-caption">
  <figcaption id="percent-caption">各機關填報完成率</figcaption>
  <div class="chart-canvas" style="height: 280px"></div>
  <details class="chart-table"><summary>以表格檢視數據</summary>
  <table class="table table-sm"><caption>各機關填報完成率</caption>
    <thead><tr><th scope="col">機關</th><th scope="col">完成率</th></tr></thead>
    <tbody>
      <tr><th scope="row"><a href="#agency-moj">法務部</a></th><td data-value="85.0">85.0%</td></tr>
      <tr><th scope="row"><a href="#agency-motc">交通部</a></th><td data-value="62.5"><a href="#agency-motc-rate">62.5%</a></td></tr>
      <tr><th scope="row"><a href="#agency-moea">經濟部</a></th><td data-value="100">100.0%</td></tr>
    </tbody>
  </table></details>
</figure>
</div>
</div></main></body></html>"""

KINDS = ["bar", "stacked", "line", "percent"]


@pytest.fixture
def chart_page(page, live_server):
    """The chart page at a live-server address; open() loads it."""
    url = f"{live_server.url}/chart-test/"
    html = engines["django"].from_string(PAGE).render({})
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def open_page():
        page.goto(url)
        page.wait_for_load_state("load")
        return url

    page.open_charts = open_page
    page.script_errors = errors
    return page


def chart_data(page, figure_id):
    return page.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.querySelector('#' + id + ' canvas'));
            return {type: chart.config.type, indexAxis: chart.options.indexAxis, labels: chart.data.labels,
                    datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data, color: d.backgroundColor}))};
        }""",
        figure_id,
    )


def painted_pixels(page, figure_id):
    """How many pixels of the figure's canvas are not transparent."""
    return page.evaluate(
        """(id) => {
            const canvas = document.querySelector('#' + id + ' canvas');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return painted;
        }""",
        figure_id,
    )


def element_point(page, figure_id, dataset, index):
    """Page coordinates of the middle of one bar (or of one point)."""
    return page.evaluate(
        """([id, dataset, index]) => {
            const canvas = document.querySelector('#' + id + ' canvas');
            const chart = Chart.getChart(canvas);
            const element = chart.getDatasetMeta(dataset).data[index];
            const box = canvas.getBoundingClientRect();
            const {x, y} = element.getCenterPoint ? element.getCenterPoint() : element;
            return {x: box.left + x, y: box.top + y};
        }""",
        [figure_id, dataset, index],
    )


def test_every_chart_kind_is_drawn_from_its_table(chart_page, artifacts_dir):
    page = chart_page
    page.open_charts()
    for kind in KINDS:
        canvas = page.locator(f"#{kind} .chart-canvas canvas")
        expect(canvas).to_have_count(1)
        expect(canvas).to_have_attribute("role", "img")
        caption = page.locator(f"#{kind} figcaption").inner_text()
        label = canvas.get_attribute("aria-label")
        assert label.startswith(caption) and "表格" in label, label
        assert painted_pixels(page, kind) > 2000, kind
        # The table stays in the page, closed, for whoever wants the numbers.
        expect(page.locator(f"#{kind} details.chart-table")).not_to_have_attribute("open", "")

    bar = chart_data(page, "bar")
    assert (bar["type"], bar["indexAxis"]) == ("bar", "x")
    assert bar["labels"] == ["法務部", "交通部", "經濟部"]
    # An empty data-value is a gap, not a zero.
    assert [d["data"] for d in bar["datasets"]] == [[1234.5, 640, 455], [980, None, 512]]

    stacked = chart_data(page, "stacked")
    assert (stacked["type"], stacked["indexAxis"]) == ("bar", "y")
    # 合計 (data-chart-skip) is left to the table.
    assert [d["label"] for d in stacked["datasets"]] == ["已達成", "進度符合", "落後", "未填報"]
    assert [d["data"] for d in stacked["datasets"]][3] == [2, 0, 1]
    assert [d["color"] for d in stacked["datasets"]] == ["#198754", "#0d6efd", "#dc3545", "#6c757d"]
    assert page.evaluate("Chart.getChart(document.querySelector('#stacked canvas')).options.scales.x.stacked")

    line = chart_data(page, "line")
    assert line["type"] == "line" and line["labels"] == ["第1季", "第2季", "第3季", "第4季"]
    assert line["datasets"][1]["data"] == [61, 70, None, 75]  # a cell with no data-value at all

    percent = chart_data(page, "percent")
    assert percent["indexAxis"] == "y" and percent["datasets"][0]["data"] == [85, 62.5, 100]
    ticks = page.evaluate("Chart.getChart(document.querySelector('#percent canvas')).scales.x.ticks.map(t => t.label)")
    assert ticks[0] == "0%" and ticks[-1] == "100%"

    assert page.evaluate("Chart.defaults.font.family").startswith('"Noto Sans CJK TC"')
    assert page.script_errors == []
    page.locator("main").screenshot(path=artifacts_dir / "charts.png")


def test_tooltips_format_numbers_with_the_unit(chart_page):
    page = chart_page
    page.open_charts()
    point = element_point(page, "bar", 0, 0)
    page.mouse.move(point["x"], point["y"])
    lines = page.evaluate(
        """() => {
            const tooltip = Chart.getChart(document.querySelector('#bar canvas')).tooltip;
            return {title: tooltip.title, body: tooltip.body.map(b => b.lines.join(''))};
        }"""
    )
    assert lines == {"title": ["法務部"], "body": ["112年：1,234.5 件", "113年：980 件"]}

    point = element_point(page, "stacked", 1, 0)
    page.mouse.move(point["x"], point["y"])
    footer = page.evaluate("Chart.getChart(document.querySelector('#stacked canvas')).tooltip.footer")
    assert footer == ["合計：6"]


@pytest.mark.parametrize(
    ("kind", "dataset", "index", "fragment"),
    [
        ("bar", 0, 0, "#bar-moj-112"),  # the cell's own link
        ("bar", 1, 0, "#bar-row-moj"),  # no link in the cell: the row header's
        ("bar", 1, 2, "#bar-moea-113"),
        ("stacked", 0, 0, "#strategy-1-done"),
        ("stacked", 2, 1, "#strategy-2-late"),
        ("stacked", 1, 2, "#strategy-3"),
        ("line", 1, 0, "#line-113-q1"),
        ("line", 0, 2, "#line-112-q3"),
        ("percent", 0, 1, "#agency-motc-rate"),
        ("percent", 0, 2, "#agency-moea"),
    ],
)
def test_clicking_a_bar_or_point_follows_the_table_link(chart_page, kind, dataset, index, fragment):
    page = chart_page
    url = page.open_charts()
    point = element_point(page, kind, dataset, index)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(url + fragment)


def test_clicking_a_bar_without_any_link_stays_put(chart_page):
    page = chart_page
    url = page.open_charts()
    point = element_point(page, "line", 0, 0)  # 第1季 112年: neither the cell nor 第1季 links
    page.mouse.click(point["x"], point["y"])
    page.wait_for_timeout(200)
    assert page.url == url


def test_the_table_shows_when_chart_js_does_not_load(chart_page, artifacts_dir):
    page = chart_page
    page.route("**/vendor/chartjs/chart.umd.min.js", lambda route: route.fulfill(status=404, body="not found"))
    page.open_charts()
    for kind in KINDS:
        expect(page.locator(f"#{kind} details.chart-table")).to_have_attribute("open", "")
        expect(page.locator(f"#{kind} canvas")).to_have_count(0)
        expect(page.locator(f"#{kind} .chart-canvas")).to_be_hidden()
        expect(page.locator(f"#{kind} table")).to_be_visible()
    assert page.script_errors == []
    page.locator("main").screenshot(path=artifacts_dir / "charts-without-chartjs.png")


def test_on_a_phone_category_names_are_shortened_so_none_is_cut_off(chart_page, artifacts_dir):
    page = chart_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.open_charts()
    labels = page.evaluate("Chart.getChart(document.querySelector('#stacked canvas')).scales.y.ticks.map(t => t.label)")
    assert labels and all(len(label) <= 7 for label in labels), labels
    # The axis fits inside the canvas: its left edge is not negative.
    assert page.evaluate("Chart.getChart(document.querySelector('#stacked canvas')).scales.y.left") >= 0
    page.locator("#stacked").screenshot(path=artifacts_dir / "chart-phone.png")
