"""The application: its services built once from Settings, and the one place that knows every table.

The web app and the CLI both build what they need here; neither the domain nor the CLI imports `web`.
Importing this module stays light (no Chroma, LangChain, OpenAI or Sudachi): the heavy parts are
imported inside the builders that need them, so `coach create-admin` opens a database quickly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import MetaData
from sqlalchemy.orm import Session, sessionmaker

from coach import jobs

# Every table module, imported for its tables (this is the one place that knows them all).
from coach.db import Base, init_db, make_engine
from coach.llm import cache
from coach.outbox import Outbox
from coach.repository import SheetNotFound, SheetRepository, StoredSheet, load_samples
from coach.retrieval import problem_tags
from coach.settings import Settings
from coach.status import SheetStatus
from coach.workspace import accounts, cycle, import_previews, links, notices, review, throttle, tokens
from coach.workspace.accounts import Account, Accounts
from coach.workspace.cycle import Cycle
from coach.workspace.import_previews import ImportPreviews
from coach.workspace.links import Links
from coach.workspace.notices import Notices
from coach.workspace.review import Review, Reviews, Submission
from coach.workspace.submission import State, Submissions
from coach.workspace.throttle import LoginThrottle
from coach.workspace.tokens import ApiTokens

if TYPE_CHECKING:
    from coach.jobs import Jobs
    from coach.mail import Mailer
    from coach.retrieval.indexer import IndexWorker
    from coach.retrieval.service import SimilarService
    from coach.service import CritiqueService
    from coach.sheet import Sheet

TABLE_MODULES = (accounts, cache, cycle, import_previews, jobs, links, notices, problem_tags, review, throttle, tokens)

log = logging.getLogger("coach.app")


def all_tables() -> MetaData:
    """Base's metadata with every table registered: what migrations compare the database against."""
    return Base.metadata


@dataclass
class Services:
    settings: Settings
    repo: SheetRepository
    critic: CritiqueService
    similar: SimilarService
    organisation_id: int
    organisation_name: str
    jobs: Jobs
    accounts: Accounts
    reviews: Reviews
    cycle: Cycle
    tokens: ApiTokens
    previews: ImportPreviews
    links: Links
    login_throttle: LoginThrottle
    outbox: Outbox
    index_worker: IndexWorker
    submissions: Submissions
    notices: Notices
    mailer: Mailer | None = None  # only with COACH_SMTP_HOST: notices are also mailed (coach/mail.py)

    def references(self, who: Account, stored: StoredSheet, sheet: Sheet, k: int = 2) -> list[Sheet]:
        """Context for the LLM: similar submitted sheets of other sections, readable by the writer,
        that the rules find clean."""
        from coach.retrieval.entries import entry_of

        out: list[Sheet] = []
        result = self.similar.similar(who, sheet, k=k + 3, exclude_ref=entry_of(stored).ref, sheet_id=stored.id)
        for match in result.matches:
            if match.hit.section == stored.section:
                continue
            try:
                other = self.repo.get(match.hit.db_id, stored.organisation_id)
            except SheetNotFound:
                continue
            if other.status == SheetStatus.SUBMITTED and not any(f.code is not None for f in other.findings):
                out.append(other.sheet)
            if len(out) >= k:
                break
        return out

    def submit(self, who: Account, stored: StoredSheet, hearing: bool) -> Review:
        """Submit for review. The critics run once more (outside the transaction: the AI coach may take
        seconds); what they say decides whether it is flagged. Then one transaction moves the sheet."""
        sheet = stored.sheet
        if self.critic.llm is not None:
            result = self.critic.deep(sheet, self.references(who, stored, sheet))
            sub = Submission(result.critique.findings, engine=result.critique.engine,
                             llm_unavailable=bool(result.notice), hearing=hearing)
        else:
            critique = self.critic.critique(sheet)
            sub = Submission(critique.findings, engine=critique.engine, hearing=hearing)
        review = self.submissions.submit(who, stored, stored.version, sub)
        self._reindex(stored)
        return review

    def unsubmit(self, who: Account, stored: StoredSheet) -> State:
        state = self.submissions.withdraw(who, stored)
        self._reindex(stored)
        return state

    def decide(self, who: Account, stored: StoredSheet, decision: str, note: str) -> Review:
        review = self.submissions.decide(who, stored, decision, note)
        self._reindex(stored)
        return review

    def revise(self, who: Account, stored: StoredSheet) -> None:
        self.submissions.revise(who, stored)
        self._reindex(stored)

    def _reindex(self, stored: StoredSheet) -> None:
        """After a move of the cycle: the index learns the new status (after the commit, as for saves),
        and the mailer sends the notices the move wrote."""
        self.after_save(self.repo.get(stored.id, stored.organisation_id))
        self.notices_written()

    def notices_written(self) -> None:
        """A transaction that may have written notices committed: mail them now rather than at the next poll."""
        if self.mailer is not None:
            self.mailer.wake()

    def after_save(self, stored: StoredSheet) -> None:
        """The save queued its index update in its own transaction (coach/outbox.py): wake the worker."""
        self.index_worker.wake()


def build_sessions(settings: Settings) -> sessionmaker[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return init_db(make_engine(settings.resolved_database_url()), settings.migrates_on_start())


def build_repository(settings: Settings, sessions: sessionmaker[Session] | None = None) -> SheetRepository:
    return SheetRepository(sessions or build_sessions(settings), timedelta(minutes=settings.autosave_window_minutes))


def build_services(settings: Settings) -> Services:
    from coach.jobs import Jobs
    from coach.llm.cache import DatabaseCache
    from coach.llm.client import llm_from_settings
    from coach.mail import Mailer, SmtpConfig
    from coach.retrieval.indexer import Indexer, IndexWorker
    from coach.retrieval.service import SimilarService
    from coach.service import CritiqueService

    sessions = build_sessions(settings)
    repo = build_repository(settings, sessions)
    org_id = repo.ensure_organisation(settings.org_name)
    if settings.load_samples:
        text = resources.files("coach").joinpath("samples/sheets.jsonl").read_text(encoding="utf-8")
        loaded = load_samples(repo, org_id, text.splitlines())
        if loaded:
            log.info("loaded %d sample sheets", loaded)
    links = Links(sessions)
    similar = SimilarService.from_settings(settings, repo, links.graph)  # the DX team's links rank linked sheets up
    _index_if_new(similar, repo)
    outbox = Outbox(sessions)
    worker = IndexWorker(Indexer(outbox, repo, similar.store, tags=similar.tags))  # started/stopped by the lifespan
    critic = CritiqueService(llm=llm_from_settings(settings, DatabaseCache(sessions)))  # one answer cache for every worker
    return Services(outbox=outbox, index_worker=worker, settings=settings, repo=repo, critic=critic,
                    similar=similar, organisation_id=org_id, organisation_name=settings.org_name,
                    jobs=Jobs(sessions, deadline=3 * settings.llm_timeout + 30),  # the call, its retry, a queue
                    accounts=Accounts(sessions, idle=timedelta(hours=settings.session_idle_hours)),
                    reviews=Reviews(sessions), cycle=Cycle(sessions), tokens=ApiTokens(sessions),
                    previews=ImportPreviews(sessions), login_throttle=LoginThrottle(sessions), links=links,
                    submissions=Submissions(sessions), notices=Notices(sessions),
                    mailer=Mailer(sessions, smtp) if (smtp := SmtpConfig.from_settings(settings)) else None)


def _index_if_new(similar: SimilarService, repo: SheetRepository) -> None:
    """On a first start the index is empty while the database may not be: fill it once."""
    from coach.retrieval.entries import entry_of
    from coach.retrieval.store import IndexMismatch, StoreUnavailable

    try:
        if repo.count() and similar.store.is_new():  # an empty database opens no store at start
            similar.store.upsert(entry_of(s) for s in repo.all())
    except IndexMismatch as exc:
        log.warning("%s", exc)
    except StoreUnavailable as exc:
        log.warning("similar-sheet index unavailable at start: %s", exc)
