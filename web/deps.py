"""Dependency aliases: routes stay a few lines long, tests swap implementations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from coach.app import Services
from coach.repository import SheetRepository
from coach.service import CritiqueService


# Coroutines: they only read the app's state, and a plain `def` dependency would cost a hop to the
# thread pool and back on every request.
def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def get_services(request: Request) -> Services:
    return _services(request)


async def get_repo(request: Request) -> SheetRepository:
    return _services(request).repo


async def get_critic(request: Request) -> CritiqueService:
    return _services(request).critic


async def get_org(request: Request) -> int:
    return _services(request).organisation_id


ServicesDep = Annotated[Services, Depends(get_services)]
RepoDep = Annotated[SheetRepository, Depends(get_repo)]
CriticDep = Annotated[CritiqueService, Depends(get_critic)]
OrgDep = Annotated[int, Depends(get_org)]
