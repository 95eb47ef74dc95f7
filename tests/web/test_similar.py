"""Similar sheets in the app: saving updates the index, the panel, the read-only view, the API."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.settings import Settings
from coach.sheet import Sheet
from coach.status import SheetStatus
from tests.conftest import LOOPBACK, indexed, section_staff, sheet_data

PHONE = sheet_data(section="環境衛生係", title="ごみの問い合わせ",
                   asis="ごみの分別の問い合わせ電話が1日15件あり、電話対応で係の手が止まる。")
PHONE2 = sheet_data(section="税務係", title="申告期の電話",
                    asis="申告の時期は問い合わせの電話がひっきりなしにかかり、受話器を取り続けている。")


def create(client: TestClient, data: dict, submit: bool = True) -> int:
    """Stored through the API (a program on this machine), submitted by the section's staff."""
    sid = client.post("/api/v1/sheets", json=data).json()["id"]
    if submit:
        section_staff(client.app, data["section"]).post(f"/sheets/{sid}", data={**data, "op": "submit"})
    indexed(client.app)  # the similar-sheet index follows a moment later (the outbox)
    return int(sid)


def test_api_similar_follows_the_contract(client: TestClient) -> None:
    a, b = create(client, PHONE), create(client, PHONE2)
    body = client.get(f"/api/v1/sheets/{a}/similar?k=3").json()
    assert body[0] == {"id": b, "score": body[0]["score"], "section": "税務係", "title": "申告期の電話"}
    assert all(item["id"] != a for item in body)
    assert [x["score"] for x in body] == sorted((x["score"] for x in body), reverse=True)


def test_api_similar_validates_k(client: TestClient) -> None:
    a = create(client, PHONE)
    for bad in ("0", "21", "x"):
        r = client.get(f"/api/v1/sheets/{a}/similar?k={bad}")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "k"


def test_other_sections_drafts_appear_only_once_submitted(client: TestClient) -> None:
    """For section staff; what a caller sees is its own `can_read` (tests/web/test_visibility.py)."""
    a = create(client, PHONE)
    b = create(client, PHONE2, submit=False)
    reader = section_staff(client.app, "環境衛生係")
    assert b not in [x["id"] for x in reader.get(f"/api/v1/sheets/{a}/similar").json()]
    assert b in [x["id"] for x in client.get(f"/api/v1/sheets/{a}/similar").json()]  # a program reads all
    section_staff(client.app, "税務係").post(f"/sheets/{b}", data={**PHONE2, "op": "submit"})
    assert b in [x["id"] for x in reader.get(f"/api/v1/sheets/{a}/similar").json()]


def test_editing_updates_the_index(client: TestClient) -> None:
    a = create(client, PHONE)
    b = create(client, sheet_data(section="土木係", title="道路", asis="道路の穴の場所を紙の地図に書いている。"))
    before = client.get(f"/api/v1/sheets/{a}/similar?k=1").json()[0]["score"]
    client.put(f"/api/v1/sheets/{b}", json={**PHONE2, "section": "土木係", "title": "道路"})
    indexed(client.app)
    after = client.get(f"/api/v1/sheets/{a}/similar?k=1").json()[0]
    assert after["id"] == b and after["score"] > before


def test_panel_in_the_editor_explains_the_match_and_links_read_only(client: TestClient) -> None:
    a, b = create(client, PHONE), create(client, PHONE2)
    client = section_staff(client.app, "環境衛生係")
    page = BeautifulSoup(client.get(f"/sheets/{a}").text, "html.parser")
    panel = page.select_one("#similar")
    assert panel["hx-post"] == f"/sheets/{a}/similar" and "input from:#sheet-form" in panel["hx-trigger"]
    item = panel.select_one(".similar-item")
    assert item.select_one("a")["href"] == f"/sheets/{b}/view"
    assert "問い合わせ対応の負担" in item.select_one(".why").text
    assert "問い合わせ" in item.select_one(".passage").text
    view = BeautifulSoup(client.get(f"/sheets/{b}/view").text, "html.parser")
    assert view.select_one("textarea") is None and "申告の時期" in view.text


def test_panel_follows_unsaved_text_while_typing(client: TestClient) -> None:
    a = create(client, sheet_data(section="土木係", title="道路", asis="道路の穴"))
    b = create(client, PHONE2)
    live = section_staff(client.app, "土木係").post(f"/sheets/{a}/similar", data=PHONE, headers={"HX-Request": "true"})
    page = BeautifulSoup(live.text, "html.parser")
    assert page.select_one("header") is None
    assert page.select_one(".similar-item")["data-id"] == str(b)


def test_the_live_panel_of_an_imported_sheet_leaves_the_sheet_itself_out(client: TestClient) -> None:
    """An imported sheet is indexed under its source's id: the live refresh, which reads only the sheet's
    head, must know that id to leave the sheet out of its own panel."""
    services = client.app.state.services
    imported = services.repo.create(services.organisation_id, Sheet(**PHONE), status=SheetStatus.SUBMITTED,
                                    external_id="ext-phone")  # submitted: the panel would show it
    other = create(client, PHONE2)  # and both indexed
    person = section_staff(client.app, "環境衛生係")
    for body in (PHONE, {**PHONE, "title": ""}):  # the typed text; nothing valid typed (the stored text)
        live = person.post(f"/sheets/{imported.id}/similar", data=body, headers={"HX-Request": "true"})
        ids = [li["data-id"] for li in BeautifulSoup(live.text, "html.parser").select(".similar-item")]
        assert str(other) in ids and str(imported.id) not in ids, ids


def test_editing_and_saving_work_while_chroma_is_down(tmp_path: Path) -> None:
    from web.app import create_app

    settings = Settings(data_dir=tmp_path, load_samples=False, chroma_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        sid = client.post("/api/v1/sheets", json=PHONE).json()["id"]
        person = section_staff(client.app, "環境衛生係")
        saved = person.post(f"/sheets/{sid}", data={**PHONE, "asis": "変えた"}, follow_redirects=False)
        assert saved.status_code == 303
        assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "変えた"
        page = BeautifulSoup(person.get(f"/sheets/{sid}").text, "html.parser")
        assert "表示できません" in page.select_one("#similar [data-state=unavailable]").text
        assert client.get(f"/api/v1/sheets/{sid}/similar").status_code == 503


PHONE3 = sheet_data(section="環境衛生係", title="粗大ごみの問い合わせ",
                    asis="粗大ごみの出し方の問い合わせ電話が毎朝集中し、電話対応で受付が止まる。")


def panel_of(client: TestClient, section: str, sheet_id: int) -> BeautifulSoup:
    page = BeautifulSoup(section_staff(client.app, section).get(f"/sheets/{sheet_id}").text, "html.parser")
    panel = page.select_one("#similar")
    assert panel is not None
    return panel


def test_panel_lists_other_sections_under_the_hint_and_the_own_section_apart(client: TestClient) -> None:
    a, other, own = create(client, PHONE), create(client, PHONE2), create(client, PHONE3)
    panel = panel_of(client, "環境衛生係", a)
    assert "他の係が書いた" in panel.select_one(".hint").text
    assert [li["data-id"] for li in panel.select("ol.similar-others > li")] == [str(other)]
    own_list = panel.select_one(".similar-own")
    assert "同じ係" in own_list.text
    assert [li["data-id"] for li in own_list.select("li")] == [str(own)]


def test_a_new_nearly_empty_sheet_shows_nothing_but_a_calm_note(client: TestClient) -> None:
    create(client, PHONE2)
    person = section_staff(client.app, "環境衛生係")
    created = person.post("/sheets", data={"title": "問い合わせ"}, follow_redirects=False)
    new_id = int(created.headers["location"].rsplit("/", 1)[-1])
    panel = panel_of(client, "環境衛生係", new_id)
    assert panel.select(".similar-item") == []
    assert "もう少し書くと、似ているシートが表示されます" in panel.select_one("[data-state=too-short]").text
    short = {**PHONE, "asis": "電話が多い。", "problems": [""]}
    live = person.post(f"/sheets/{new_id}/similar", data=short, headers={"HX-Request": "true"})
    assert BeautifulSoup(live.text, "html.parser").select_one("[data-state=too-short]") is not None


def test_matches_below_the_calibrated_score_are_hidden(client: TestClient) -> None:
    from coach.retrieval.panel import MIN_SCORE

    a = create(client, PHONE)
    create(client, sheet_data(section="農政係", title="イノシシの柵", asis="イノシシの被害が増え、畑の柵の修理が追いつかない。",
                              tobe="農家が安心して作物を育てられている。", purpose="農業を続けられるように。",
                              problems=["柵の材料が足りない"], tasks=["被害の地区を調べる"]))
    api_scores = [x["score"] for x in client.get(f"/api/v1/sheets/{a}/similar?k=5").json()]
    assert api_scores and max(api_scores) < MIN_SCORE  # the API still lists it; the panel must not
    panel = panel_of(client, "環境衛生係", a)
    assert panel.select(".similar-item") == []
    assert panel.select_one("[data-state=empty]") is not None
