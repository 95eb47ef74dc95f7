"""Submit → flagged → queue → review page → judge, comment, return or accept; every action in the log."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import LOOPBACK, indexed, logged_in, section_staff, sheet_data

CLEAN = sheet_data()
ERRORS = sheet_data(title="郵送請求", asis="住民票の写しの郵送請求は月80件。申請書を確認し、住民票を紙で印刷して郵送している。",
                    tobe="住民票の写しを紙で印刷せず、郵送もしない。", problems=["電子申請システムがない"],
                    tasks=["確認の手順を書き出す"])


def soup(r) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(r.text, "html.parser")


def submit(person: TestClient, data: dict, hearing: bool = False) -> int:
    sid = person.post("/api/v1/sheets", json=data).json()["id"]
    form = {**data, "op": "submit", **({"hearing": "1"} if hearing else {})}
    assert person.post(f"/sheets/{sid}", data=form, follow_redirects=False).status_code == 303
    indexed(person.app)  # the similar-sheet index follows a moment later (the outbox)
    return int(sid)


def test_flags_errors_and_hearing_requests_and_lists_them_first(staff: TestClient, dx: TestClient) -> None:
    clean = submit(staff, CLEAN)
    errors = submit(staff, ERRORS)
    hearing = submit(staff, {**CLEAN, "title": "ヒアリングしたい"}, hearing=True)
    rows = soup(dx.get("/review")).select(".queue tbody tr")
    order = [int(r["data-sheet"]) for r in rows]
    assert order == [errors, hearing, clean]  # flagged first, then oldest first
    flagged = {int(r["data-sheet"]): r.get("class") == ["flagged"] for r in rows}
    assert flagged == {errors: True, hearing: True, clean: False}
    assert "要見直しの指摘が残っている" in rows[0].text and "要見直し 2" in rows[0].text
    assert "ヒアリング希望" in rows[1].text and "住民窓口係" in rows[1].text
    assert "0日" in rows[2].text


def test_an_unavailable_ai_coach_flags_the_sheet(tmp_path: Path) -> None:
    from web.app import create_app

    settings = Settings(data_dir=tmp_path, load_samples=False, llm_model="m", llm_base_url="http://127.0.0.1:9/v1",
                        llm_timeout=2)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        staff = logged_in(client.app, "madoguchi")
        sid = submit(staff, CLEAN)
        review = client.app.state.services.reviews.get(sid)
        assert review.flags == ["llm_unavailable"] and review.flagged
        dx = logged_in(client.app, "dxteam", "dx", None)
        assert "AIコーチが使えなかった" in dx.get("/review").text


def test_reviewer_judges_comments_and_returns_then_the_author_sees_it(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, ERRORS)
    page = soup(dx.get(f"/review/{sid}"))
    assert page.select_one("#rv-tobe .finding[data-code=TOBE_MIRRORS_ASIS]") is not None
    assert page.select_one("#rv-problems .finding[data-code=SOLUTION_IN_SHEET]") is not None
    dx.post(f"/review/{sid}/findings", data={"code": "TOBE_MIRRORS_ASIS", "field": "tobe", "item": "",
                                             "verdict": "confirmed"})
    dx.post(f"/review/{sid}/findings", data={"code": "SOLUTION_IN_SHEET", "field": "problems", "item": "0",
                                             "verdict": "dismissed"})
    page = soup(dx.get(f"/review/{sid}"))
    assert "指摘どおり" in page.select_one("#rv-tobe .verdict").text
    assert "judged-dismissed" in page.select_one("#rv-problems .finding")["class"]

    r = dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": ""})
    assert r.status_code == 422 and "直してほしい点をコメント" in r.text  # nothing to tell them yet
    dx.post(f"/review/{sid}/comments", data={"field": "tobe", "body": "その日、住民はどんな様子ですか？"})
    dx.post(f"/review/{sid}/comments", data={"field": "problems", "item": "1", "body": "何に困っていますか？"})
    r = dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": "あるべき姿から考え直しましょう。"},
                follow_redirects=False)
    assert r.status_code == 303

    editor = soup(staff.get(f"/sheets/{sid}"))
    assert "差し戻されました" in editor.select_one(".review-note.returned").text
    assert "あるべき姿から考え直しましょう" in editor.select_one(".review-note").text
    assert "住民はどんな様子ですか" in editor.select_one(".field-tobe .review-comment").text
    assert "（1行目）" in editor.select_one(".field-problems .review-comment").text
    assert staff.get(f"/api/v1/sheets/{sid}").json()["status"] == "draft"  # back with the section

    log = dx.app.state.services.reviews.log(1, sid)
    assert [e.action for e in reversed(log)] == ["submit", "confirm", "dismiss", "comment", "comment", "return"]
    assert all(e.user_login == "dx-team" for e in log[:-1]) and log[-1].user_login == "madoguchi"
    audit = soup(dx.get(f"/review/{sid}")).select("#log tr")
    assert len(audit) == 6 and "差し戻し" in audit[0].text and "dx-teamさん" in audit[0].text


def test_resubmitting_starts_a_new_round_and_accepting_ends_it(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, ERRORS)
    dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": "もう一度"})
    staff.post(f"/sheets/{sid}", data={**CLEAN, "op": "submit"})
    review = dx.app.state.services.reviews.get(sid)
    assert review.state == "waiting" and review.flags == []
    assert "差し戻されました" not in staff.get(f"/sheets/{sid}").text  # the old round's comments are history
    dx.post(f"/review/{sid}/decision", data={"decision": "accept", "note": "よく整理されています。"})
    assert staff.get(f"/api/v1/sheets/{sid}").json()["status"] == "submitted"
    assert "受理しました" in staff.get(f"/sheets/{sid}").text
    assert [i["data-sheet"] for i in soup(dx.get("/review?state=accepted")).select(".queue tbody tr")] == [str(sid)]


def test_accepting_a_returned_sheet_makes_it_visible_again(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": "もう一度"})
    assert staff.get(f"/api/v1/sheets/{sid}").json()["status"] == "draft"
    dx.post(f"/review/{sid}/decision", data={"decision": "accept", "note": ""})
    assert staff.get(f"/api/v1/sheets/{sid}").json()["status"] == "submitted"


def test_bad_review_input_gets_a_japanese_reason(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, ERRORS)
    cases = [
        (f"/review/{sid}/comments", {"field": "tobe", "body": "  "}, "コメントを2000文字以内"),
        (f"/review/{sid}/comments", {"field": "nope", "body": "x"}, "コメントする欄"),
        (f"/review/{sid}/findings", {"code": "PURPOSE_MISSING", "field": "purpose", "item": "",
                                     "verdict": "confirmed"}, "その指摘は今の版にはありません"),
        (f"/review/{sid}/findings", {"code": "TOBE_MIRRORS_ASIS", "field": "tobe", "item": "",
                                     "verdict": "maybe"}, "指摘は不要」を選んで"),
        (f"/review/{sid}/decision", {"decision": "later"}, "受理する"),
        (f"/review/{sid}/stage", {"stage": "完成", "on": "2026-04-01"}, "段階を一覧から"),
        (f"/review/{sid}/stage", {"stage": "壁打ち", "on": "4月1日"}, "2026-04-01 の形"),
        (f"/review/{sid}/stage", {"stage": "壁打ち", "on": (date.today() + timedelta(days=2)).isoformat()}, "未来"),
        (f"/review/{sid}/outcomes", {"kind": "hours", "value": "たくさん"}, "数値を半角"),
        (f"/review/{sid}/outcomes", {"kind": "kpi", "value": "3", "label": ""}, "KPI の名前"),
    ]
    for path, data, reason in cases:
        r = dx.post(path, data=data)
        assert r.status_code == 422 and reason in r.text, (path, data)
    assert dx.post("/review/99999/comments", data={"field": "tobe", "body": "x"}).status_code == 404


def test_stages_themes_and_outcomes_are_dated_and_logged(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/stage", data={"stage": "壁打ち", "on": "2026-05-10"})
    dx.post(f"/review/{sid}/stage", data={"stage": "シート整理", "on": ""})
    services = dx.app.state.services
    stages = services.cycle.stages(sid)
    assert [(s.stage, s.on) for s in stages] == [("壁打ち", date(2026, 5, 10)), ("シート整理", date.today())]
    themes = {t.name: t.id for t in services.cycle.themes(1)}
    assert len(themes) == 8 and "楽らく窓口" in themes
    dx.post(f"/review/{sid}/themes", data={"theme": [str(themes["楽らく窓口"]), str(themes["AI活用"])]})
    assert services.cycle.sheet_themes(1)[sid] == ["AI活用", "楽らく窓口"]
    dx.post(f"/review/{sid}/outcomes", data={"kind": "hours", "value": "1,200", "unit": "", "on": "2026-10-01"})
    dx.post(f"/review/{sid}/outcomes", data={"kind": "kpi", "label": "1か所で済んだ転入の割合", "value": "82.5",
                                             "unit": "%", "on": "2026-10-01"})
    outcomes = services.cycle.outcomes(sid)
    assert [(o.label, o.value, o.unit) for o in outcomes] == [("年間の削減時間", 1200.0, "時間/年"),
                                                             ("1か所で済んだ転入の割合", 82.5, "%")]
    page = soup(dx.get(f"/review/{sid}"))
    assert "シート整理" in page.select_one("#cycle strong").text
    assert "1,200 時間/年" in page.select_one("#cycle table").text
    assert {e.action for e in services.reviews.log(1, sid)} >= {"stage", "themes", "outcome"}
    # the themes are the DX team's words: never on the page section staff see
    assert "楽らく窓口" not in staff.get(f"/sheets/{sid}").text


def test_the_theme_list_is_editable(dx: TestClient) -> None:
    dx.post("/admin/themes", data={"name": "キャッシュレス"})
    services = dx.app.state.services
    names = [t.name for t in services.cycle.themes(1)]
    assert names[-1] == "キャッシュレス" and len(names) == 9
    assert dx.post("/admin/themes", data={"name": "キャッシュレス"}).status_code == 422
    for t in services.cycle.themes(1):
        dx.post(f"/admin/themes/{t.id}/delete", data={"confirmed": "1"})
    assert services.cycle.themes(1) == []  # emptied on purpose: the defaults do not come back


def test_the_version_diff_reads_like_a_sentence(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, ERRORS)
    staff.post(f"/sheets/{sid}", data={**ERRORS, "tobe": "住民が自宅で住民票の写しを受け取れている。", "op": "submit"})
    changed = {**ERRORS, "tobe": "住民が自宅で住民票の写しを受け取れている。"}
    staff.post(f"/sheets/{sid}", data=changed)  # saved again without a change: one more version
    page = soup(dx.get(f"/review/{sid}"))
    diff = page.select_one("#diff")
    assert [h.text for h in diff.select(".diff-field h3")] == ["あるべき姿"]  # against the last different one
    assert "紙で印刷せず" in diff.select_one("del").text and "自宅で" in diff.select_one("ins").text
    assert "違いはありません" in soup(dx.get(f"/review/{sid}?from=1&to=1")).select_one("#diff").text


def test_similar_sheets_of_other_sections_on_the_review_page(client: TestClient, staff: TestClient,
                                                              dx: TestClient) -> None:
    phone = sheet_data(section="税務係", title="申告期の電話", asis="申告の時期は問い合わせの電話がひっきりなしに鳴る。")
    other = submit(section_staff(client.app, "税務係"), phone)
    mine = submit(staff, {**CLEAN, "asis": "問い合わせの電話が1日30件あり、電話対応で窓口が止まる。"})
    page = soup(dx.get(f"/review/{mine}"))
    assert f"/review/{other}" in [a["href"] for a in page.select(".similar-list a")]


def test_export_labels_writes_the_evals_format(staff: TestClient, dx: TestClient, data_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from coach.cli import main
    from coach.evaluation import load

    done = submit(staff, ERRORS)
    partial = submit(staff, {**ERRORS, "title": "途中"})
    for code, field, item, verdict in (("TOBE_MIRRORS_ASIS", "tobe", "", "confirmed"),
                                       ("SOLUTION_IN_SHEET", "problems", "0", "dismissed")):
        dx.post(f"/review/{done}/findings", data={"code": code, "field": field, "item": item, "verdict": verdict})
    dx.post(f"/review/{partial}/findings", data={"code": "TOBE_MIRRORS_ASIS", "field": "tobe", "item": "",
                                                 "verdict": "confirmed"})
    out = data_dir / "labels.jsonl"
    assert main(["export-labels", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 件のラベル付きシート" in err and "途中の 1 版は除外" in err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    submitted = staff.app.state.services.repo.get(done, 1).version  # type: ignore[attr-defined]
    assert [r["id"] for r in rows] == [f"review-{done}-v{submitted}"]  # the version that was submitted
    assert rows[0]["expected"] == [{"code": "TOBE_MIRRORS_ASIS", "field": "tobe", "item": None}]
    assert rows[0]["dismissed"][0]["code"] == "SOLUTION_IN_SHEET" and rows[0]["group"] == "住民窓口係"
    labelled = load(out)  # the evals read it as they read the dev set
    assert labelled[0].expected == {("TOBE_MIRRORS_ASIS", "tobe", None)}
    assert labelled[0].sheet.tobe == ERRORS["tobe"]


def test_the_whole_audit_log_lists_every_kind_of_action(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, ERRORS)
    dx.post(f"/review/{sid}/stage", data={"stage": "壁打ち", "on": "2026-05-10"})
    dx.post("/admin/accounts", data={"login": "zeimu", "name": "山本 健", "role": "staff", "section": "税務係"})
    page = soup(dx.get("/review/log"))
    rows = [r.text for r in page.select(".audit tbody tr")]
    assert "アカウント" in rows[0] and "zeimu" in rows[0]
    assert "段階の変更" in rows[1] and "壁打ち" in rows[1] and "住民窓口係：郵送請求" in rows[1]
    assert "提出" in rows[2] and "madoguchi" in rows[2]
    assert staff.get("/review/log").status_code == 403


def test_a_reviewer_adds_a_finding_the_coach_missed(staff: TestClient, dx: TestClient, data_dir: Path) -> None:
    from coach.cli import main
    from coach.evaluation import load

    sid = submit(staff, CLEAN)  # the rules find nothing here
    for data, reason in (({"code": "TOBE_VAGUE", "field": "tasks", "item": ""}, "あるべき姿」の欄にだけ"),
                         ({"code": "TASK_NOT_ACTIONABLE", "field": "tasks", "item": "9"}, "1〜2で入力"),
                         ({"code": "NOPE", "field": "tasks", "item": ""}, "一覧から")):
        r = dx.post(f"/review/{sid}/missed", data=data)
        assert r.status_code == 422 and reason in r.text
    dx.post(f"/review/{sid}/missed", data={"code": "TASK_NOT_ACTIONABLE", "field": "tasks", "item": "2"})
    page = soup(dx.get(f"/review/{sid}"))
    added = page.select_one("#rv-tasks .finding.judged-added")
    assert added is not None and "2行目" in added.text and "見落とし" in added.text
    out = data_dir / "labels.jsonl"
    assert main(["export-labels", "--out", str(out)]) == 0
    labelled = load(out)
    assert labelled[0].expected == {("TASK_NOT_ACTIONABLE", "tasks", 1)}
    assert labelled[0].sheet.tasks[1] == CLEAN["tasks"][1]
    assert dx.app.state.services.reviews.log(1, sid)[0].action == "missed"


def test_a_reviewers_added_finding_takes_the_severity_of_its_code(staff: TestClient, dx: TestClient) -> None:
    from coach.findings import SEVERITY

    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/missed", data={"code": "TOBE_VAGUE", "field": "tobe", "item": ""})
    dx.post(f"/review/{sid}/missed", data={"code": "TASK_NOT_ACTIONABLE", "field": "tasks", "item": "1"})
    page = soup(dx.get(f"/review/{sid}"))
    vague = page.select_one("#rv-tobe .finding.judged-added")
    task = page.select_one("#rv-tasks .finding.judged-added")
    assert vague is not None and task is not None
    assert f"sev-{SEVERITY['TOBE_VAGUE']}" in vague["class"] and "sev-warning" in vague["class"]
    assert f"sev-{SEVERITY['TASK_NOT_ACTIONABLE']}" in task["class"]
