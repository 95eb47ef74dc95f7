"""The services one running app holds, built once from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from coach.db import init_db, make_engine
from coach.repository import SheetRepository, load_samples
from coach.service import CritiqueService
from coach.settings import Settings

log = logging.getLogger("coach.web")


@dataclass
class Services:
    settings: Settings
    repo: SheetRepository
    critic: CritiqueService
    organisation_id: int
    organisation_name: str


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    repo = SheetRepository(init_db(engine), timedelta(minutes=settings.autosave_window_minutes))
    org_id = repo.ensure_organisation(settings.org_name)
    if settings.load_samples:
        text = resources.files("coach").joinpath("samples/sheets.jsonl").read_text(encoding="utf-8")
        loaded = load_samples(repo, org_id, text.splitlines())
        if loaded:
            log.info("loaded %d sample sheets", loaded)
    return Services(
        settings=settings, repo=repo, critic=CritiqueService(), organisation_id=org_id,
        organisation_name=settings.org_name,
    )
