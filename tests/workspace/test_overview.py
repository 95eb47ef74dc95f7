"""The overview's figures, the keyword map, the charts and the version diff."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.repository import StoredSheet
from coach.workspace.cycle import StageChange
from coach.workspace.diff import diff, list_rows, text_runs
from coach.workspace.keywords import Edge, _layout_of, keyword_map, nouns
from coach.workspace.overview import build, fiscal_year, moved_forward
from tests.conftest import make_sheet, sheet_data
from web.charts import bars, network, ring


def stored(i: int, section: str, **overrides: object) -> StoredSheet:
    t = datetime(2026, 5, 1)
    return StoredSheet(i, 1, None, section, "題", "submitted", 1, make_sheet(section=section, **overrides), t, t)


def test_the_towns_year_starts_in_april() -> None:
    assert fiscal_year(date(2026, 4, 1)) == 2026 and fiscal_year(date(2027, 3, 31)) == 2026
    assert fiscal_year(date(2026, 3, 31)) == 2025


def test_moving_forward_means_a_later_stage_this_year() -> None:
    fy = 2026
    assert not moved_forward([], fy)
    assert moved_forward([StageChange("壁打ち", date(2026, 6, 1), "佐藤")], fy)
    assert not moved_forward([StageChange("壁打ち", date(2025, 6, 1), "佐藤")], fy)  # last year
    assert not moved_forward([StageChange("テスト", date(2025, 6, 1), "佐藤"),
                              StageChange("壁打ち", date(2026, 6, 1), "佐藤")], fy)  # went back
    assert not moved_forward([StageChange("保留", date(2026, 6, 1), "佐藤")], fy)


def test_build_counts_sections_stages_codes_and_shared_problems() -> None:
    phone = "問い合わせの電話が1日30件ある。"
    sheets = [stored(1, "住民窓口係", asis=phone), stored(2, "税務係", asis=phone), stored(3, "税務係")]
    from coach.service import CritiqueService

    critic = CritiqueService()
    findings = {1: critic.critique(make_sheet(purpose="効率化のため")).findings, 2: [], 3: []}
    view = build(sheets, ["住民窓口係", "税務係", "土木係", "議事係"],
                 {1: [StageChange("壁打ち", date(2026, 6, 1), "佐藤")]}, findings, date(2026, 11, 26))
    assert (view.sections_with_sheet, view.sections_total) == (2, 4)
    assert view.sections_without == ["土木係", "議事係"]
    assert dict(view.stage_counts)["現状フロー"] == 2 and dict(view.stage_counts)["壁打ち"] == 1
    assert (view.moved_forward, view.cases, round(view.moved_share, 2)) == (1, 3, 0.33)
    assert view.code_counts == [("PURPOSE_MISSING", "目的が書かれていない", 1)]
    assert ("問い合わせ対応の負担", ["住民窓口係", "税務係"]) in view.shared


def test_keyword_map_is_deterministic_and_skips_filler_words() -> None:
    texts = ["窓口で申請書を書いてもらう。", "窓口の申請書が多い。", "窓口で申請書を確認する。", "道路の穴を地図に書く。",
             "道路の穴の場所を地図で探す。"]
    nodes, edges = keyword_map(texts)
    words = [n.word for n in nodes]
    assert words[:2] == ["申請書", "窓口"] and "こと" not in words and "場所" not in words
    assert {(e.a, e.b) for e in edges} >= {("申請書", "窓口"), ("地図", "道路")}
    assert keyword_map(texts) == (nodes, edges)
    assert all(0.0 <= n.x <= 1.0 and 0.0 <= n.y <= 1.0 for n in nodes)
    assert "毎年" not in nouns("毎年3月に窓口が混む")


def test_charts_are_svg_with_escaped_labels() -> None:
    svg = str(bars([("<script>x</script>", 3), ("壁打ち", 0)], "段階"))
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'aria-label="段階"' in svg
    assert "48<tspan" in str(ring(48, 52, "シートがある係")) and "92%" in str(ring(48, 52, "x"))
    nodes, edges = keyword_map(["窓口 申請書", "窓口 申請書"])
    assert str(network(nodes, edges, "map")).count("<circle") == 2
    assert "シートが増えると" in str(network([], [], "map"))


def test_diff_marks_what_changed_in_japanese_text() -> None:
    assert text_runs("紙で郵送している。", "住民が自宅で受け取れている。")[0][0] in ("del", "ins")
    runs = text_runs("委員8名に郵送している。", "委員8名に手渡している。")
    assert ("same", "委員8名に") in runs and ("del", "郵送") in runs and ("ins", "手渡") in runs
    assert list_rows(["a", "b"], ["a", "c", "d"]) == [[("same", "a")], [("del", "b")], [("ins", "c")], [("ins", "d")]]
    changes = diff(make_sheet(), make_sheet(tasks=["転入時に必要になる手続きを世帯の状況別に洗い出す"]))
    assert [c.field for c in changes if c.changed] == ["tasks"]


def test_overview_page_shows_the_figures(client: TestClient, dx: TestClient) -> None:
    client.post("/api/v1/sheets", json=sheet_data())
    client.post("/api/v1/sheets", json=sheet_data(section="税務係", purpose="効率化のため"))
    dx.post("/admin/sections", data={"names": "住民窓口係\n税務係\n土木係、議事係"})
    page = BeautifulSoup(dx.get("/overview").text, "html.parser")
    assert page.select_one(".ring")["aria-label"] == "シートがある係 2/4"
    assert "土木係、議事係" in page.text
    assert len(page.select("svg.chart")) >= 3
    assert "目的が書かれていない" in page.text
    assert [a["href"] for a in page.select(".ov-actions a")] == ["/export/sheets.xlsx", "/export/summary.csv",
                                                                 "/export/sheets.csv", "/import"]


def test_audit_entries_read_as_japanese() -> None:
    from coach.workspace.audit_events import decode

    assert decode("missed", {"version": 1, "code": "SOLUTION_IN_SHEET", "field": "problems", "item": 0}).summary() \
        == "シート内の解決手段（問題1行目）"
    assert decode("submit", {"version": 2, "flags": ["errors", "hearing"]}).summary() \
        == "第2版（要見直しの指摘が残っている・ヒアリング希望）"
    assert decode("themes", {"themes": ["AI活用", "楽らく窓口"]}).summary() == "テーマ：AI活用・楽らく窓口"
    assert decode("import", {"file": "a.xlsx", "created": 3, "updated": 1}).summary() == "a.xlsx：新規 3・更新 1"
    assert decode("import", {"file": "a.xlsx", "created": 3, "updated": 1, "status": "draft"}).summary() \
        == "a.xlsx：新規 3（下書き）・更新 1"
    assert decode("account", {"active": False, "login": "zeimu"}).summary() == "zeimu を停止"
    assert decode("outcome", {"kind": "hours", "value": 120.0}).summary() == "年間の削減時間 120"
    assert decode("return", {"version": 3, "note": "もう一度"}).summary() == "第3版：もう一度"


def test_keyword_map_words_link_to_the_sheets_that_use_them(client: TestClient, dx: TestClient) -> None:
    from urllib.parse import parse_qs, urlparse

    a = client.post("/api/v1/sheets", json=sheet_data(asis="紙の申請書を台帳に写している。")).json()["id"]
    b = client.post("/api/v1/sheets", json=sheet_data(section="税務係", asis="申告書の内容を台帳に入れ直している。")).json()["id"]
    c = client.post("/api/v1/sheets", json=sheet_data(section="土木係", asis="道路の穴を見回りで探している。")).json()["id"]
    services = client.app.state.services
    other_town = services.repo.ensure_organisation("となり町")
    services.repo.create(other_town, make_sheet(section="他町の係", asis="台帳を紙で持っている。"), status="submitted")
    page = BeautifulSoup(dx.get("/overview").text, "html.parser")
    links = {parse_qs(urlparse(x["href"]).query)["word"][0]: x["href"] for x in page.select("svg.network a")}
    assert "台帳" in links and set(links) == {x.text for x in page.select(".keyword-links a")}
    listing = BeautifulSoup(dx.get(links["台帳"]).text, "html.parser")
    assert "台帳" in listing.select_one("h1").text
    rows = listing.select("ul.word-sheets > li")
    assert sorted(int(li["data-id"]) for li in rows) == sorted([a, b])  # not 土木係, not the other town
    assert c not in [int(li["data-id"]) for li in rows] and "他町の係" not in listing.text
    assert rows[0].select_one("a")["href"].startswith("/review/")


def test_the_keyword_listing_is_for_the_dx_team_and_checks_its_input(client: TestClient, dx: TestClient) -> None:
    from tests.conftest import section_staff

    staff = section_staff(client.app, "住民窓口係")
    assert staff.get("/overview/words?word=台帳").status_code == 403
    for bad in ("", "   ", "あ" * 51):
        r = dx.get("/overview/words", params={"word": bad})
        reason = BeautifulSoup(r.text, "html.parser").select_one("h1").text
        assert r.status_code == 422 and "word" in reason and "言葉" in reason


def _layout_one_link_at_a_time(words: list[str], edges: list[Edge], seed: int, steps: int = 400) -> np.ndarray:
    """The map's layout as first written (each link's pull added in a Python loop): the reference."""
    n = len(words)
    rng = np.random.default_rng(seed)
    pos = rng.normal(scale=0.3, size=(n, 2))
    index = {w: i for i, w in enumerate(words)}
    k = 1.0 / math.sqrt(n)
    temperature = 0.2
    for _ in range(steps):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=2) + 1e-6
        move = ((k * k / dist**2)[:, :, None] * delta).sum(axis=1)
        for e in edges:
            i, j = index[e.a], index[e.b]
            d = pos[i] - pos[j]
            pull = d * np.linalg.norm(d) / k * (0.5 + 2 * e.weight)
            move[i] -= pull
            move[j] += pull
        move -= pos * 0.6
        length = np.linalg.norm(move, axis=1)[:, None] + 1e-9
        pos += move / length * np.minimum(length, temperature)
        temperature = max(temperature * 0.99, 0.002)
    span = pos.max(axis=0) - pos.min(axis=0)
    return (pos - pos.min(axis=0)) / np.where(span > 0, span, 1.0)  # type: ignore[no-any-return]


def test_the_keyword_maps_layout_is_the_one_link_at_a_time_layout_and_is_remembered() -> None:
    texts = ["窓口で申請書を書いてもらう。", "窓口の申請書が多い。", "窓口で申請書を確認する。", "道路の穴を地図に書く。",
             "道路の穴の場所を地図で探す。", "申請書の様式を地図と一緒に窓口で配る。"]
    nodes, edges = keyword_map(texts)
    assert len(nodes) >= 4 and edges
    reference = _layout_one_link_at_a_time([n.word for n in nodes], edges, seed=7)
    # The same layout, not the same bits: the two add the links' pulls in another order, and 400 steps
    # amplify a last-bit rounding difference. On some CPUs (an AMD EPYC, numpy's SIMD paths) that grew to
    # ~1e-4 of the map's width; a thousandth of it is less than a pixel of the drawn map.
    assert np.allclose([[n.x, n.y] for n in nodes], reference, atol=1e-3)
    before = _layout_of.cache_info().hits
    assert keyword_map(texts) == (nodes, edges)
    assert _layout_of.cache_info().hits == before + 1  # the same map again: no layout computed
