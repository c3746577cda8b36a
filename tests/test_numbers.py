from decimal import Decimal

import pytest

from measures.numbers import FigureError, chinese_numeral, format_quantity, parse_figure
from measures.years import parse_roc_year, roc_label


@pytest.mark.parametrize(
    ("printed", "quantity", "unit"),
    [
        ("1 萬 5,000 件", 15000, "件"),
        ("1萬7,000件", 17000, "件"),
        ("1億6千萬元", 160000000, "元"),
        ("1 億 6 千萬元", 160000000, "元"),
        ("550萬人次", 5500000, "人次"),
        ("4,600 門", 4600, "門"),
        ("80%", 80, "%"),
        ("85%以上", 85, "%"),
        ("390所以上", 390, "所"),
        ("約 1,250 家", 1250, "家"),
        ("１２場次", 12, "場次"),  # full-width digits from Taiwanese input methods
        ("2,100件", 2100, "件"),
        ("12.5%", Decimal("12.5"), "%"),
    ],
)
def test_parse_figure(printed, quantity, unit):
    figure = parse_figure(printed)
    assert figure.quantity == quantity
    assert figure.unit == unit


@pytest.mark.parametrize("printed", ["", "件", "三百件", "300", "1,2,3x"])
def test_parse_figure_rejects_what_it_cannot_read(printed):
    with pytest.raises(FigureError):
        parse_figure(printed)


def test_chinese_numerals_and_formatting():
    assert [chinese_numeral(n) for n in (1, 9, 10, 11, 20, 21)] == ["一", "九", "十", "十一", "二十", "二十一"]
    assert format_quantity(Decimal("15000.0000")) == "15,000"
    assert format_quantity(Decimal("12.5000")) == "12.5"
    assert format_quantity(None) == ""


@pytest.mark.parametrize(("text", "year"), [("112", 112), ("民國112年", 112), ("112年", 112), ("１１２", 112), ("2023", 112)])
def test_roc_year_input(text, year):
    assert parse_roc_year(text) == year


@pytest.mark.parametrize("text", ["", "abc", "民國年", "0"])
def test_roc_year_input_errors_are_specific(text):
    with pytest.raises(ValueError, match="不是有效的民國年度"):
        parse_roc_year(text)


def test_roc_label_shows_both_calendars():
    assert roc_label(112) == "民國112年（2023）"


@pytest.mark.parametrize(("quantity", "unit", "ratio", "places", "shown"), [
    (Decimal("1772377.0000"), "元", False, None, "1,772,377元"),
    (Decimal("35.0000"), "件", False, None, "35件"),
    (Decimal("35.5000"), "", False, None, "35.5"),
    (Decimal("1234.5678"), "案", False, 2, "1,234.57案"),
    (Decimal("89.2857"), "", True, None, "89.3%"),
    (Decimal("100"), "", True, None, "100%"),
    (Decimal("0"), "人", False, None, "0人"),
    (None, "元", False, None, ""),
])
def test_figures_are_shown_as_people_write_them(quantity, unit, ratio, places, shown):
    from measures.numbers import figure_label

    assert figure_label(quantity, unit, ratio=ratio, places=places) == shown


def test_every_page_filter_goes_through_the_one_formatting_path():
    from measures.templatetags.plan_extras import figure
    from reporting.selectors.figures import Figure
    from reporting.templatetags.dashboard_extras import figure_display, number

    assert figure(Decimal("1772377.0000"), "元") == "1,772,377元" and figure(Decimal("76.666"), "%") == "76.7%" and figure("已完成") == "已完成"
    assert number(Decimal("1234.5000")) == "1,234.5"
    assert figure_display(Figure(kind="ratio", entries=1, agencies=1, numerator=Decimal(100), denominator=Decimal(112))) == "89.3%"
    assert figure_display(Figure(kind="quantity", entries=1, agencies=1, quantity=Decimal("1772377.0000"))) == "1,772,377"
