"""The 回头看 draw, pure: a frozen population and a seed in, the sample out.  Anybody holding
the stored population and seed gets the same sample (``flask follow-up-sample --verify``).

Within each township (the stratum) the cases are ordered by HMAC-SHA256(seed, case id) and
the first ``quota`` are taken: nobody who does not know the seed before the population is
frozen can steer which cases come first, and the seed is generated at the draw, after the
population was frozen.  Then, for every installer company, its first ``first_n``
installations of the population (by install date, then case id) are added.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Iterable


@dataclass(frozen=True)
class Member:
    """One case of the frozen population."""

    case_id: int
    stratum: int
    company_id: int | None = None
    install_date: date | None = None


@dataclass(frozen=True)
class Chosen:
    by_rate: bool
    by_installer: bool


def order_key(seed: bytes, case_id: int) -> bytes:
    """The keyed hash that orders a stratum: HMAC-SHA256 with the seed as key over the case
    id written in decimal ASCII."""
    return hmac.new(seed, str(case_id).encode("ascii"), hashlib.sha256).digest()


def quota(size: int, rate_percent: int) -> int:
    """Cases drawn from a stratum of ``size``: ``rate_percent`` % rounded up, at least one
    when the stratum has any case, never more than it has."""
    if size <= 0:
        return 0
    return min(size, max(1, -(-size * rate_percent // 100)))


def draw(seed: bytes, members: Iterable[Member], rate_percent: int,
         first_n: int = 0) -> dict[int, Chosen]:
    """case id → why it is in the sample (the township's rate, its installer's first N)."""
    population = sorted(members, key=lambda m: (m.stratum, m.case_id))
    by_rate: set[int] = set()
    for _, stratum in groupby(population, key=lambda m: m.stratum):
        ids = [m.case_id for m in stratum]
        ids.sort(key=lambda i: order_key(seed, i))
        by_rate.update(ids[:quota(len(ids), rate_percent)])
    by_installer: set[int] = set()
    if first_n > 0:
        installed = sorted((m for m in population if m.company_id is not None),
                           key=lambda m: (m.company_id, m.install_date or date.max, m.case_id))
        for _, company in groupby(installed, key=lambda m: m.company_id):
            by_installer.update(m.case_id for m in list(company)[:first_n])
    return {i: Chosen(i in by_rate, i in by_installer) for i in sorted(by_rate | by_installer)}


def population_digest(case_ids: Iterable[int]) -> str:
    """SHA-256 of the sorted case ids, one per line: stored when the population is frozen,
    so a changed population is seen at verification."""
    text = "\n".join(str(i) for i in sorted(case_ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
