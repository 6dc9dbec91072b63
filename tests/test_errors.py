"""Every exception riskrail defines has one root, RiskrailError: a caller (the CLI, the
daemon, an embedding program) tells riskrail's refusals from anything else with one
``except``, without knowing the seventeen classes by name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import riskrail.cli
import riskrail.daemon
import riskrail.engine
import riskrail.sim
from riskrail.engine import RiskrailError


def defined_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (riskrail.engine, riskrail.daemon, riskrail.sim, riskrail.cli):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            loaded = importlib.import_module(module.name)
            for _, value in inspect.getmembers(loaded, inspect.isclass):
                if (issubclass(value, BaseException)
                        and value.__module__.startswith("riskrail.")):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_riskrail_exception_derives_from_the_root() -> None:
    classes = defined_exceptions()
    assert len(classes) >= 17  # the walk found them (it cannot pass by finding none)
    strays = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes
                    if not issubclass(c, RiskrailError))
    assert strays == []


def test_refinements_keep_their_builtin_meaning() -> None:
    from riskrail.engine.calendar import CalendarError
    from riskrail.engine.events import EventError
    from riskrail.engine.instruments import UnknownInstrumentError

    assert issubclass(CalendarError, ValueError) and issubclass(EventError, ValueError)
    assert issubclass(UnknownInstrumentError, LookupError)
