from __future__ import annotations

from pathlib import Path

from coach.db import init_db, make_engine
from coach.repository import SheetRepository
from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.service import SimilarService, explain
from coach.retrieval.store import Entry, Hit, SimilarStore, connector
from coach.workspace.accounts import Account
from tests.conftest import make_sheet


def test_explain_says_which_problem_and_words_are_shared() -> None:
    query = make_sheet(asis="ごみの分別の問い合わせ電話が多く、窓口の手が止まる。")
    hit = Hit(ref="2", source="db", db_id=2, score=0.6, section="税務係", title="申告期の電話",
              text="申告期の電話\n申告の時期は問い合わせの電話がひっきりなしにかかる。\n窓口の受付が止まる。")
    match = explain(query, hit)
    assert match.concepts == ["問い合わせ対応の負担"]
    assert "問い合わせ" in match.words
    assert match.passage == "申告の時期は問い合わせの電話がひっきりなしにかかる"


def repository(tmp_path: Path) -> SheetRepository:
    return SheetRepository(init_db(make_engine(f"sqlite:///{tmp_path / 'coach.db'}")))


def staff_of(section: str, org: int = 1) -> Account:
    return Account(1, org, "staff", "職員", "staff", section)


def test_index_failure_is_swallowed_and_search_says_unavailable(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    service = SimilarService(SimilarStore(connector(tmp_path, "http://127.0.0.1:9"), ProblemNgramEmbedding()), repo)
    sheet = make_sheet()
    assert service.index([Entry("1", "db", 1, 1, "係", "題", "draft", sheet)]) is False
    result = service.similar(staff_of("係"), sheet)
    assert result.matches == [] and "表示できません" in result.unavailable


def test_hits_are_those_the_caller_may_read_by_the_database(tmp_path: Path) -> None:
    """Other sections' drafts are skipped (and more hits fetched), whatever the index's copy says."""
    repo = repository(tmp_path)
    org = repo.ensure_organisation("サンプル町")
    service = SimilarService(SimilarStore(connector(tmp_path), ProblemNgramEmbedding()), repo)
    phone = "問い合わせの電話が多く、電話対応で窓口の受付が止まる。"
    drafts = [repo.create(org, make_sheet(section="税務係", title=f"下書き{i}", asis=phone)) for i in range(8)]
    shown = repo.set_status(repo.create(org, make_sheet(section="税務係", title="提出済み", asis=phone + "紙")).id,
                            org, "submitted")
    own = repo.create(org, make_sheet(section="住民窓口係", title="自分の係", asis=phone))
    # the index believes every sheet is submitted
    service.index([Entry(str(s.id), "db", s.id, org, s.section, s.title, "submitted", s.sheet)
                   for s in [*drafts, shown, own]])
    titles = [m.hit.title for m in service.similar(staff_of("住民窓口係", org), make_sheet(asis=phone), k=2).matches]
    assert sorted(titles) == ["提出済み", "自分の係"]
    dx = Account(2, org, "dx", "DX", "dx", None)
    assert len(service.similar(dx, make_sheet(asis=phone), k=10).matches) == 10
    other_town = Account(3, org + 1, "dx", "DX", "dx", None)
    assert service.similar(other_town, make_sheet(asis=phone), k=10).matches == []


def test_shared_words_are_shown_as_written_not_in_dictionary_form() -> None:
    query = make_sheet(asis="申請から交付まで2か月かかる。申請書の確認に時間がかかる。")
    hit = Hit(ref="3", source="db", db_id=3, score=0.5, section="福祉係", title="交付の遅れ",
              text="交付の遅れ\n申請から交付まで3ヶ月かかり、申請書の確認に人手がかかっている。")
    words = explain(query, hit).words
    assert "申請書" in words and "交付" in words
    assert not {"掛かる", "箇月"} & set(words)  # Sudachi's normalised forms, written in neither sheet
    for w in words:  # every word shown is in the other sheet as written (a pair shows both writings)
        assert all(part in hit.text for part in w.split("／")[:1])


def test_the_passage_shown_is_from_the_problem_not_the_wish() -> None:
    from coach.retrieval.texts import sheet_text

    query = make_sheet(asis="窓口が混雑して、住民を長く待たせている。")
    other = make_sheet(section="福祉係", title="タクシー券", asis="申請の受付で窓口に行列ができる。",
                       tobe="窓口が混雑せず、待たせることがない。", problems=["受付が午前に集中する"])
    hit = Hit(ref="4", source="db", db_id=4, score=0.5, section="福祉係", title="タクシー券", text=sheet_text(other))
    assert explain(query, hit).passage == "申請の受付で窓口に行列ができる"
