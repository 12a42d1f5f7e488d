"""The kinds of company that answer complaints: their vocabulary and the remedies they can offer.

`[company] business` in the settings picks one; `[policy] actions` overrides its remedies."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Literal, get_args

from pydantic import BaseModel

from ..models import Action

BusinessName = Literal[
    "retail",
    "marketplace",
    "airline",
    "telecom",
    "software",
    "bank",
    "utility",
    "hospitality",
    "food_delivery",
    "other",
]
ACTIONS: tuple[str, ...] = get_args(Action)


class Business(BaseModel):
    name: BusinessName
    label: str
    """What kind of company it is, in a phrase ("an airline")."""
    case: str
    """What a customer's business with us is called: order, booking, account."""
    item: str
    """What the customer has from us: item, bag, line, subscription."""
    ships: bool
    """Whether the company sends parcels."""
    actions: list[Action]
    """The remedies it can offer."""
    now: str
    """How a customer reaches someone at once."""


@cache
def _table() -> dict[str, dict[str, object]]:
    data = files("assistant.business").joinpath("businesses.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def business(name: BusinessName, actions: list[Action] | None = None) -> Business:
    """The named business, with `actions` (from `[policy] actions`) in place of its own if given."""
    spec = dict(_table()[name])
    if actions is not None:
        spec["actions"] = actions
    return Business.model_validate({"name": name, **spec})
