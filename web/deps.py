"""Dependency aliases: routes stay a few lines long, tests swap implementations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from coach.app import Services
from coach.repository import SheetRepository
from coach.service import CritiqueService


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def get_repo(request: Request) -> SheetRepository:
    return get_services(request).repo


def get_critic(request: Request) -> CritiqueService:
    return get_services(request).critic


def get_org(request: Request) -> int:
    return get_services(request).organisation_id


ServicesDep = Annotated[Services, Depends(get_services)]
RepoDep = Annotated[SheetRepository, Depends(get_repo)]
CriticDep = Annotated[CritiqueService, Depends(get_critic)]
OrgDep = Annotated[int, Depends(get_org)]
