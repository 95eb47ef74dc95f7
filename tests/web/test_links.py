"""横連携 end to end: the DX team links two sections' sheets; both sections see it, the overview counts
it, search ranks it up, `coach export-links` writes it — and another town never sees any of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.settings import Settings
from coach.workspace.accounts import Account
from tests.conftest import LOOPBACK, PASSWORD, indexed, logged_in, make_sheet, section_staff, sheet_data
from tests.web.test_review import submit

LABEL = "同じ質問への繰り返しの回答"  # not one of the search's recurring problems: only the link counts it
A = sheet_data(section="住民窓口係", title="証明書の問い合わせ電話",
               asis="証明書の取り方についての問い合わせの電話が1日40件あり、職員が窓口を離れて電話対応に追われている。",
               tobe="住民が自分で取り方を確かめて、一度の来庁で証明書を受け取れている。",
               purpose="住民が迷わず手続きを終えられ、職員が窓口の住民に向き合えるようにするため。",
               problems=["同じ内容の質問に、職員が毎日何度も答えている状態になっている"],
               tasks=["多い質問を1か月分書き出す"], margin="")
B = sheet_data(section="税務係", title="納税通知後の質問対応",
               asis="納税通知書を送った翌週は、同じ内容の質問に一日中答えることになり、申告の審査が夕方まで進まない。",
               tobe="納税者が通知書だけで納め方と期限を理解し、審査担当が日中に審査を終えている。",
               purpose="納税者が不安なく期限内に納められるようにするため。",
               problems=["通知書の説明が分かりにくく、同じ質問が繰り返し寄せられている"],
               tasks=["寄せられた質問を種類別に数える"], margin="")
DRAFT = sheet_data(section="土木係", title="橋の点検の下書き", asis="秘密の下書き：橋の点検結果を紙の台帳に書き写している。",
                   tobe="", purpose="", problems=[], tasks=[], margin="")
ROADS = sheet_data(section="土木係", title="道路の穴の通報", asis="道路の穴の通報を受けると、職員が紙の地図に場所を書き写して現地へ向かう。",
                   tobe="通報から1日以内に、補修担当が穴の場所へ迷わず着いている。", purpose="住民が安全に通行できるようにするため。",
                   problems=["通報の場所が言葉だけで伝わり、現地で探し回っている"], tasks=["通報の受け方を書き出す"], margin="")
DISTRACTOR = {"section": "戸籍係", "title": "証明書の手数料計算",
              "asis": "証明書の交付のたびに、職員が窓口で手数料を電卓で計算し、1日40件の証明書の金額を手で記録している。",
              "problems": ["証明書の手数料を職員が毎日何度も手で計算している状態になっている"]}


@pytest.fixture
def app(database_url: str, data_dir: Path) -> Iterator[Any]:
    """The service on SQLite and on PostgreSQL."""
    from web.app import create_app

    settings = Settings(data_dir=data_dir, load_samples=False, database_url=database_url)
    with TestClient(create_app(settings), client=LOOPBACK) as c:
        yield c.app


@pytest.fixture
def town(app: Any) -> dict[str, Any]:
    people = {"madoguchi": section_staff(app, "住民窓口係"), "zeimu": section_staff(app, "税務係"),
              "doboku": section_staff(app, "土木係"), "dx": logged_in(app, "dx-team", "dx", None)}
    ids = {"a": submit(people["madoguchi"], A), "b": submit(people["zeimu"], B),
           "roads": submit(people["doboku"], ROADS),
           "draft": int(people["doboku"].post("/api/v1/sheets", json=DRAFT).json()["id"])}
    indexed(app)
    return {**people, **ids}


def soup(r: Any) -> BeautifulSoup:
    assert r.status_code == 200, r.text
    return BeautifulSoup(r.text, "html.parser")


def link(dx: TestClient, sheet: int, other: int, label: str = LABEL) -> Any:
    r = dx.post(f"/review/{sheet}/links", data={"other": str(other), "label": label}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/review/{sheet}?done=linked#links", r.text
    return r


def note(person: TestClient, path: str) -> str:
    found = soup(person.get(path)).select_one(".link-note")
    return found.get_text("", strip=True) if found else ""


def test_two_linked_sections_both_see_it_and_never_a_draft(town: dict[str, Any]) -> None:
    dx, madoguchi, zeimu, doboku = town["dx"], town["madoguchi"], town["zeimu"], town["doboku"]
    a, b = town["a"], town["b"]
    assert note(madoguchi, f"/sheets/{a}") == ""
    link(dx, a, b)
    link(dx, a, town["draft"], "台帳への書き写し")  # the DX team reads drafts; sections must not

    mine = soup(madoguchi.get(f"/sheets/{a}")).select_one(".link-note")
    assert "DX推進チームが、税務係の「納税通知後の質問対応」と同じ問題としてつなぎました" in mine.text
    assert [x["href"] for x in mine.select("a")] == [f"/sheets/{b}"] and LABEL in mine.text
    theirs = note(zeimu, f"/sheets/{b}")
    assert "住民窓口係の「証明書の問い合わせ電話」と同じ問題として" in theirs
    assert "納税通知後" in note(zeimu, f"/sheets/{a}/view")  # reading the other sheet shows it too
    for person, path in ((madoguchi, f"/sheets/{a}"), (zeimu, f"/sheets/{a}/view"), (zeimu, f"/sheets/{b}")):
        page = person.get(path).text
        assert "橋の点検" not in page and "秘密の下書き" not in page and f"/sheets/{town['draft']}\"" not in page
    assert "証明書の問い合わせ電話" in note(doboku, f"/sheets/{town['draft']}")  # its own draft: sees A

    review = soup(dx.get(f"/review/{a}"))
    assert {li["data-sheet"] for li in review.select("#links .linked-list li")} == {str(b), str(town["draft"])}
    assert "同じ問題としてつなぎました" in soup(dx.get(f"/review/{a}?done=linked")).select_one(".flash").text

    dx.post(f"/review/{b}/decision", data={"decision": "return", "note": "もう一度"})  # B is a draft again
    assert note(madoguchi, f"/sheets/{a}") == "" and "納税通知後" not in madoguchi.get(f"/sheets/{a}").text


def test_the_overview_counts_a_linked_group_as_a_shared_problem(town: dict[str, Any]) -> None:
    dx = town["dx"]

    def shared() -> dict[str, str]:
        items = soup(dx.get("/overview")).select(".shared li")
        return {li.strong.text: li.get_text(" ", strip=True) for li in items}

    assert LABEL not in shared()
    link(dx, town["a"], town["b"])
    row = shared()[LABEL]
    assert "2係" in row and "住民窓口係、税務係" in row and "つないだシートあり" in row
    assert "「同じ問題」としてつないだシート" in soup(dx.get("/overview")).text  # how it is counted


def test_a_rejected_suggestion_is_not_suggested_again(town: dict[str, Any]) -> None:
    dx, a, roads = town["dx"], town["a"], town["roads"]

    def suggested(sheet: int) -> set[str]:
        return {li["data-sheet"] for li in soup(dx.get(f"/review/{sheet}")).select("#similar .similar-list > li")}

    assert str(roads) in suggested(a)
    r = dx.post(f"/review/{a}/links/reject", data={"other": str(roads)}, follow_redirects=False)
    assert r.status_code == 303
    assert str(roads) not in suggested(a) and str(a) not in suggested(roads)  # either way round
    api = dx.get(f"/api/v1/sheets/{a}/similar?k=5").json()
    ids = [h["id"] for h in api]
    assert roads not in ids and town["b"] in ids  # the rejected match is gone; what the DX team may read stays
    rejected = soup(dx.get("/links")).select(".rejected-links li")
    assert len(rejected) == 1 and "道路の穴の通報" in rejected[0].text
    dx.post(rejected[0].form["action"], data={})  # 取り消す: it may be suggested again
    assert str(roads) in suggested(a)


def test_a_sheet_linked_to_a_neighbour_ranks_up_in_search(town: dict[str, Any]) -> None:
    dx, madoguchi = town["dx"], town["madoguchi"]
    services = dx.app.state.services
    near = submit(section_staff(dx.app, "戸籍係"), {**A, **DISTRACTOR})  # same words, another problem
    query = submit(section_staff(dx.app, "市民課"), {**A, "section": "市民課", "title": "住民票の問い合わせ"})
    stored = services.repo.get(query, services.organisation_id)

    def top(k: int) -> dict[int, float]:
        staff = Account(0, stored.organisation_id, "shimin", "市民課の職員", "staff", "市民課")
        result = services.similar.similar(staff, stored.sheet, k=k, exclude_ref=str(query), sheet_id=query)
        return {m.hit.db_id: m.hit.score for m in result.matches}

    before = top(5)
    assert next(iter(before)) == town["a"] and near in before  # A is the query's nearest neighbour
    assert before.get(town["b"], 0.0) < 0.9 * before[town["a"]]  # words alone rank B well below A
    link(dx, town["a"], town["b"])
    after = top(5)
    assert list(after)[:2] == [town["a"], town["b"]]  # the DX team linked B to the query's neighbour A
    assert after[town["b"]] >= 0.9 * after[town["a"]] - 1e-4
    assert madoguchi.get(f"/sheets/{town['a']}/similar").status_code == 200


def test_the_same_problem_view_lists_groups_and_removes_a_link(town: dict[str, Any]) -> None:
    dx, a, b = town["dx"], town["a"], town["b"]
    link(dx, a, b)
    link(dx, town["roads"], b)  # a third sheet under the same label joins the group
    page = soup(dx.get("/links"))
    (group,) = page.select(".link-group")
    assert group["data-label"] == LABEL and "3係・3枚" in group.h2.text
    assert "同じ問題" in [a_.text for a_ in page.select(".topbar nav a")]
    dx.post(group.select("form")[0]["action"], data={})
    group = soup(dx.get("/links")).select(".link-group")
    assert len(group) == 1 and "2係・2枚" in group[0].h2.text
    log = soup(dx.get("/review/log")).select("tbody tr")
    assert [r.select("td")[2].text for r in log[:3]] == ["つながりを外す", "同じ問題としてつなぐ", "同じ問題としてつなぐ"]
    assert LABEL in log[0].text


def test_section_staff_cannot_link_and_every_form_needs_the_token(town: dict[str, Any]) -> None:
    madoguchi, a, b = town["madoguchi"], town["a"], town["b"]
    for path in (f"/review/{a}/links", f"/review/{a}/links/reject", f"/review/{a}/links/1/delete", "/links/1/delete"):
        r = madoguchi.post(path, data={"other": str(b), "label": LABEL})
        assert r.status_code == 403 and "DX推進チーム" in r.text, path
    assert madoguchi.get("/links").status_code == 403
    no_token = logged_in(town["dx"].app, "dx-team2", "dx", None, csrf_header=False)
    for path in (f"/review/{a}/links", f"/review/{a}/links/reject", "/links/1/delete"):
        r = no_token.post(path, data={"other": str(b), "label": LABEL})
        assert r.status_code == 403 and "送信の確認ができませんでした" in r.text, path
    from tests.conftest import csrf_of

    ok = no_token.post(f"/review/{a}/links", data={"other": str(b), "label": LABEL, "csrf_token": csrf_of(no_token)},
                       follow_redirects=False)
    assert ok.status_code == 303
    bad = town["dx"].post(f"/review/{a}/links", data={"other": "x", "label": LABEL})
    assert bad.status_code == 422 and "つなぐ相手のシート" in bad.text
    bad = town["dx"].post(f"/review/{a}/links", data={"other": str(b), "label": ""})
    assert bad.status_code == 422 and "短い言葉で入力" in bad.text


def export(monkeypatch: pytest.MonkeyPatch, database_url: str, out: Path, org_name: str = "サンプル町") -> list[dict]:
    from coach.cli import main
    from coach.settings import get_settings

    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    monkeypatch.setenv("COACH_ORG_NAME", org_name)
    get_settings.cache_clear()
    assert main(["export-links", "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def test_export_links_round_trips_through_the_retrieval_eval(town: dict[str, Any], database_url: str,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from coach.cli import main
    from coach.retrieval import evaluation as rev

    dx = town["dx"]
    link(dx, town["a"], town["b"])
    link(dx, town["roads"], town["a"], "台帳への書き写し")
    dx.post(f"/review/{town['a']}/links/reject", data={"other": str(town["draft"])})
    rows = export(monkeypatch, database_url, tmp_path / "links.jsonl")
    assert [(r["id"], r["tags"]) for r in rows] == [
        (f"sheet-{town['a']}", sorted([LABEL, "台帳への書き写し"])), (f"sheet-{town['b']}", [LABEL]),
        (f"sheet-{town['roads']}", ["台帳への書き写し"])]
    assert rows[0]["sheet"]["title"] == "証明書の問い合わせ電話"
    loaded = rev.load(tmp_path / "links.jsonl")
    assert [t.tags for t in loaded] == [frozenset(r["tags"]) for r in rows] and rev.has_queries(loaded)
    capsys.readouterr()
    assert main(["eval-retrieval", "--dataset", str(tmp_path / "links.jsonl"), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))["default through Chroma"]["links"]
    assert report["queries"] == 3 and 0 <= report["recall@3"] <= 1
    assert "| default through Chroma | links | 3 |" in capsys.readouterr().out


def test_another_town_never_sees_the_links(town: dict[str, Any], database_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    dx, a, b = town["dx"], town["a"], town["b"]
    link(dx, a, b)
    services = dx.app.state.services
    village = services.repo.ensure_organisation("B村")
    services.accounts.create(village, "dx-village", "村の DX", "dx", PASSWORD)
    theirs = services.repo.create(village, make_sheet(section="住民係", title="村の電話"), status="submitted").id
    other = logged_in(dx.app, "dx-village", "dx", None)

    page = soup(other.get("/links"))
    assert page.select(".link-group") == [] and LABEL not in page.text and "証明書" not in page.text
    assert LABEL not in other.get("/overview").text
    assert other.get(f"/review/{a}").status_code == 404
    assert LABEL not in other.get(f"/review/{theirs}").text
    assert other.post(f"/review/{a}/links", data={"other": str(b), "label": "村から"}).status_code == 404
    assert other.post(f"/review/{theirs}/links", data={"other": str(a), "label": "村から"}).status_code == 404
    assert other.post(f"/review/{theirs}/links/reject", data={"other": str(a)}).status_code == 404
    link_id = services.links.of_organisation(services.organisation_id)[0].id
    assert other.post(f"/links/{link_id}/delete", data={}).status_code == 422
    assert len(services.links.of_organisation(services.organisation_id)) == 1  # still there
    assert "村から" not in dx.get(f"/review/{a}").text
    assert export(monkeypatch, database_url, tmp_path / "village.jsonl", "B村") == []
    assert len(export(monkeypatch, database_url, tmp_path / "town.jsonl")) == 2


def test_the_review_page_removes_its_own_links_only(town: dict[str, Any]) -> None:
    dx, a, b, roads = town["dx"], town["a"], town["b"], town["roads"]
    link(dx, a, b)
    link(dx, roads, b, "道路")
    services = dx.app.state.services
    (form,) = soup(dx.get(f"/review/{a}")).select("#links .linked-list form")
    other_link = next(lk.id for lk in services.links.of_sheet(services.organisation_id, roads))
    wrong = dx.post(f"/review/{a}/links/{other_link}/delete", data={})
    assert wrong.status_code == 422 and "このシートのつながりではありません" in wrong.text
    r = dx.post(form["action"], data={}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/review/{a}?done=unlinked#links"
    assert soup(dx.get(f"/review/{a}")).select("#links .linked-list li") == []
    assert [lk.label for lk in services.links.of_organisation(services.organisation_id)] == ["道路"]
