from __future__ import annotations

from pathlib import Path

from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.service import SimilarService, explain
from coach.retrieval.store import Entry, Hit, SimilarStore, connector
from tests.conftest import make_sheet


def test_explain_says_which_problem_and_words_are_shared() -> None:
    query = make_sheet(asis="ごみの分別の問い合わせ電話が多く、窓口の手が止まる。")
    hit = Hit(ref="2", source="db", db_id=2, score=0.6, section="税務係", title="申告期の電話",
              text="申告期の電話\n申告の時期は問い合わせの電話がひっきりなしにかかる。\n窓口の受付が止まる。")
    match = explain(query, hit)
    assert match.concepts == ["問い合わせ対応の負担"]
    assert "問い合わせ" in match.words
    assert match.passage == "申告の時期は問い合わせの電話がひっきりなしにかかる"


def test_index_failure_is_swallowed_and_search_says_unavailable(tmp_path: Path) -> None:
    service = SimilarService(SimilarStore(connector(tmp_path, "http://127.0.0.1:9"), ProblemNgramEmbedding()))
    sheet = make_sheet()
    assert service.index([Entry("1", "db", 1, 1, "係", "題", "draft", sheet)]) is False
    result = service.similar(1, sheet)
    assert result.matches == [] and "表示できません" in result.unavailable


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
    from coach.retrieval.store import sheet_text

    query = make_sheet(asis="窓口が混雑して、住民を長く待たせている。")
    other = make_sheet(section="福祉係", title="タクシー券", asis="申請の受付で窓口に行列ができる。",
                       tobe="窓口が混雑せず、待たせることがない。", problems=["受付が午前に集中する"])
    hit = Hit(ref="4", source="db", db_id=4, score=0.5, section="福祉係", title="タクシー券", text=sheet_text(other))
    assert explain(query, hit).passage == "申請の受付で窓口に行列ができる"
