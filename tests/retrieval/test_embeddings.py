"""Embedding functions: the registry protocol, and the OpenAI-compatible one over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.utils.embedding_functions import known_embedding_functions

from coach.retrieval.concepts import concepts_in
from coach.retrieval.embeddings import CharNgramEmbedding, OpenAICompatibleEmbedding, ProblemNgramEmbedding
from coach.retrieval.store import Entry, SimilarStore, connector
from tests.conftest import make_sheet


@pytest.mark.parametrize("cls", [CharNgramEmbedding, ProblemNgramEmbedding])
def test_registered_and_rebuilt_from_config(cls) -> None:  # type: ignore[no-untyped-def]
    ef = cls()
    assert known_embedding_functions[ef.name()] is cls
    again = cls.build_from_config(json.loads(json.dumps(ef.get_config())))
    texts = ["電話の問い合わせが多い", "紙の地図で場所を探している"]
    assert np.allclose(np.array(ef(texts)), np.array(again(texts)))
    assert ef.default_space() == "cosine"


def test_vectors_are_unit_length_and_full_width_folds() -> None:
    ef = ProblemNgramEmbedding()
    a, b = ef(["ＲＰＡで入力を１０件"]), ef(["RPAで入力を10件"])
    assert np.allclose(a[0], b[0]) and abs(float(np.linalg.norm(a[0])) - 1.0) < 1e-5


def test_concepts_name_the_shared_problem() -> None:
    assert "問い合わせ対応の負担" in concepts_in("問い合わせの電話がひっきりなしにかかる")
    assert "位置の特定" in concepts_in("通報の場所が紙の地図でしか分からない")
    assert concepts_in("研修資料を作り直している") == {}


def test_version_3_names_problems_version_2_did_not_know() -> None:
    from coach.retrieval.concepts import CONCEPTS, CONCEPTS_VERSION, Lexicon
    from evals.concepts_v2 import CONCEPTS_V2

    assert CONCEPTS_VERSION == 3
    assert set(CONCEPTS_V2) < set(CONCEPTS)  # every version 2 concept is kept, under its name
    assert all(set(words) <= set(CONCEPTS[name]) for name, words in CONCEPTS_V2.items())
    signals = [w for words in CONCEPTS.values() for w in words]
    assert len(signals) == len(set(signals))  # no signal in two concepts
    old = Lexicon(CONCEPTS_V2)
    for text, concept in [("毎月の当番表づくりに係長が丸一日かかっている", "シフト・勤務表の作成"),
                          ("電話の伝言が担当に届かない", "伝言・電話メモの行き違い")]:
        assert concept in concepts_in(text) and old.found(text).keys().isdisjoint({concept})
    assert "窓口の待ち・たらい回し" in concepts_in("窓口が混んで住民を長く待たせている")


def test_a_collection_of_the_version_2_lexicon_is_another_collection() -> None:
    v2 = ProblemNgramEmbedding.build_from_config({"dim": 2048, "concept_weight": 0.5, "concepts_version": 2,
                                                  "char_fields": ProblemNgramEmbedding().char_fields,
                                                  "concept_fields": ProblemNgramEmbedding().concept_fields})
    assert v2.get_config() != ProblemNgramEmbedding().get_config()


def test_fields_are_weighted_and_a_typed_separator_cannot_shift_them() -> None:
    from coach.retrieval.texts import FIELD_SEP, sheet_text, split_fields

    ef = ProblemNgramEmbedding()
    base = make_sheet(asis="申請書の内容を台帳に打ち直している。", tobe="窓口で予約ができている。")
    same_problem = make_sheet(asis="申請書の内容を台帳に打ち直している。", tobe="すぐに交付できている。")
    same_wish = make_sheet(asis="イノシシの被害が増えている。", tobe="窓口で予約ができている。")
    vectors = np.array(ef([sheet_text(s) for s in (base, same_problem, same_wish)]))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # AsIs weighs more than ToBe
    assert make_sheet(title=f"題{FIELD_SEP}名").title == "題名"  # the cleaning rule drops it at the boundary
    tricky = make_sheet().model_copy(update={"title": f"題{FIELD_SEP}名"})  # and if one got past it anyway
    fields = split_fields(sheet_text(tricky))
    assert fields is not None and fields["title"] == "題 名" and fields["asis"] == tricky.asis


def test_collections_made_before_field_weights_keep_their_vectors() -> None:
    old_config = {"dim": 2048, "concept_weight": 0.5, "concepts_version": 2}
    rebuilt = ProblemNgramEmbedding.build_from_config(old_config)
    assert set(rebuilt.char_fields.values()) == {1.0} and set(rebuilt.concept_fields.values()) == {1.0}
    assert rebuilt.get_config() != ProblemNgramEmbedding().get_config()  # another collection name


def test_the_panel_floor_is_the_calibrated_one() -> None:
    from coach.retrieval import evaluation as rev
    from coach.retrieval.panel import MIN_SCORE

    floor, table = rev.calibrate(rev.load(Path(__file__).parents[2] / "evals/retrieval.jsonl"), ProblemNgramEmbedding())
    assert floor == MIN_SCORE
    assert all(share < 0.2 for start, _, share in table if start < floor)


class _Stub(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Stub.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, float("電話" in t)]}
                for i, t in enumerate(texts)]
        payload = json.dumps({"object": "list", "data": list(reversed(data)), "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Stub.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_compatible_over_real_http(stub: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COACH_EMBEDDING_API_KEY", "sk-test-secret")
    ef = OpenAICompatibleEmbedding(model="local-embed", base_url=stub)
    vectors = ef(["電話が多い", "紙"])
    assert len(vectors) == 2 and vectors[0][2] > 0 and vectors[1][2] == 0  # order restored by index
    assert _Stub.seen[0]["path"] == "/v1/embeddings" and _Stub.seen[0]["auth"] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in json.dumps(ef.get_config())  # the key never lands in the index
    store = SimilarStore(connector(tmp_path), ef)
    sheet = make_sheet()
    store.upsert([Entry("a", "import", 1, 1, "係", "題", "submitted", sheet)])
    assert [h.ref for h in store.query(1, sheet)] == ["a"]
    rebuilt = OpenAICompatibleEmbedding.build_from_config(ef.get_config())
    assert rebuilt.base_url == stub and rebuilt.model == "local-embed"
