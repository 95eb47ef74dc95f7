"""Shared fixtures: every test owns a temporary data directory; sheets come from one factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coach.settings import Settings
from coach.sheet import Sheet


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("COACH_DATA_DIR", str(d))
    return d


GOOD: dict[str, Any] = {
    "section": "住民窓口係",
    "title": "転入手続きの窓口対応",
    "asis": "転入の届出は窓口で受け付け、1件あたり平均40分。住民が最大6か所の窓口を自分で回っている。",
    "tobe": "転入した住民が、1か所の窓口で必要な手続きをまとめて済ませ、20分ほどで役場を出られている。",
    "purpose": "引っ越してきたばかりの住民が、町での暮らしを安心して始められるようにするため。",
    "problems": ["手続きごとに担当課が分かれ、住民が窓口を移動しないと手続きが終わらない状態になっている"],
    "tasks": ["転入時に必要になる手続きを世帯の状況別に洗い出す", "各窓口の処理時間を3月に計測する"],
    "margin": "書かない窓口のシステム？",
}


def sheet_data(**overrides: Any) -> dict[str, Any]:
    data = {k: (list(v) if isinstance(v, list) else v) for k, v in GOOD.items()}
    data.update(overrides)
    return data


def make_sheet(**overrides: Any) -> Sheet:
    return Sheet.model_validate(sheet_data(**overrides))


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, load_samples=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from web.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c
