"""The DX team's links between sheets (横連携) on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from coach.db import init_db, make_engine
from coach.errors import BadInput
from coach.repository import SheetNotFound, SheetRepository
from coach.workspace.accounts import Account
from coach.workspace.links import LINKED, REJECTED, Link, Links, clean_label, groups
from coach.workspace.review import Reviews
from tests.conftest import make_sheet


@pytest.fixture
def town(database_url: str) -> tuple[sessionmaker[Session], SheetRepository, int, int]:
    sessions = init_db(make_engine(database_url))
    repo = SheetRepository(sessions)
    return sessions, repo, repo.ensure_organisation("サンプル町"), repo.ensure_organisation("B村")


def dx(org: int, login: str = "dxteam") -> Account:
    return Account(1, org, login, "佐藤 美咲", "dx", None)


def sheets(repo: SheetRepository, org: int, *sections: str) -> list[int]:
    return [repo.create(org, make_sheet(section=s, title=f"{s}の業務"), status="submitted").id for s in sections]


def test_link_reject_and_remove_are_one_row_per_pair_and_audited(town) -> None:  # type: ignore[no-untyped-def]
    sessions, repo, org, _ = town
    a, b, c = sheets(repo, org, "住民窓口係", "税務係", "土木係")
    links, who = Links(sessions), dx(org)
    first = links.link(who, b, a, "  電話問い合わせの集中 ")
    assert (first.a, first.b, first.state, first.label) == (a, b, LINKED, "電話問い合わせの集中")
    again = links.link(who, a, b, "同じ質問への回答")  # the same pair again: relabelled, not duplicated
    assert again.id == first.id and again.label == "同じ質問への回答"
    rejected = links.reject(who, a, c)
    assert rejected.state == REJECTED and rejected.label == ""
    assert [lk.state for lk in links.of_sheet(org, a)] == [LINKED, REJECTED]
    assert links.of_sheet(org, c) == [rejected]
    graph = links.graph(org)
    assert graph.neighbours(a) == {b} and graph.is_rejected(c, a) and not graph.is_rejected(a, b)
    links.remove(who, rejected.id)
    assert links.of_sheet(org, c) == []
    log = Reviews(sessions).log(org)
    assert [e.action for e in reversed(log)] == ["link", "link", "reject_link", "unlink"]
    assert log[-1].detail == {"linked_to": a, "other": "住民窓口係「住民窓口係の業務」", "label": "電話問い合わせの集中"}
    assert log[-1].sheet_id == b  # written where the DX team acted


def test_bad_links_get_a_japanese_reason(town) -> None:  # type: ignore[no-untyped-def]
    sessions, repo, org, _ = town
    a, b = sheets(repo, org, "住民窓口係", "税務係")
    links = Links(sessions)
    for label, reason in (("  ", "短い言葉で入力"), ("問" * 51, "50文字以内")):
        with pytest.raises(BadInput) as exc:
            links.link(dx(org), a, b, label)
        assert reason in exc.value.errors[0].reason and exc.value.errors[0].field == "label"
    with pytest.raises(BadInput) as exc:
        links.link(dx(org), a, a, "電話")
    assert "同じシートどうし" in exc.value.errors[0].reason
    with pytest.raises(BadInput) as exc:
        links.remove(dx(org), 12345)
    assert "見つかりません" in exc.value.errors[0].reason
    assert clean_label("ＦＡＸの　送り直し") == "FAXの 送り直し"
    assert links.of_organisation(org) == [] and Reviews(sessions).log(org) == []


def test_another_organisation_cannot_link_see_or_remove(town) -> None:  # type: ignore[no-untyped-def]
    sessions, repo, org, village = town
    a, b = sheets(repo, org, "住民窓口係", "税務係")
    (theirs,) = sheets(repo, village, "住民窓口係")
    links = Links(sessions)
    mine = links.link(dx(org), a, b, "電話問い合わせの集中")
    with pytest.raises(SheetNotFound):
        links.link(dx(village, "dx-b"), a, b, "電話")  # both sheets are another town's
    with pytest.raises(SheetNotFound):
        links.link(dx(village, "dx-b"), theirs, a, "電話")  # one is
    with pytest.raises(BadInput):
        links.remove(dx(village, "dx-b"), mine.id)
    assert links.of_organisation(village) == [] and not links.graph(village)
    assert links.of_organisation(org) == [mine]
    assert Reviews(sessions).log(village) == []


def link(i: int, a: int, b: int, label: str, state: str = LINKED) -> Link:
    from datetime import datetime

    return Link(i, a, b, state, label, "佐藤", datetime(2026, 5, 1))


def test_groups_are_connected_components_label_by_label() -> None:
    found = groups([link(1, 1, 2, "電話"), link(2, 2, 3, "電話"), link(3, 4, 5, "電話"),
                    link(4, 2, 6, "予約"), link(5, 1, 7, "", REJECTED)])
    assert [(g.label, g.sheet_ids) for g in found] == [("電話", [1, 2, 3]), ("予約", [2, 6]), ("電話", [4, 5])]
    assert [lk.id for lk in found[0].links] == [1, 2]  # sheet 2 sits in two problems; rejections in none
