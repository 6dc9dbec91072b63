"""A ProjectX Gateway simulator on loopback that the unmodified project-x-py SDK
connects to, and a scripted trader (``riskrail sim``; see sim/README.md).

Test suites use :class:`Simulator` (in the running event loop) or
:class:`SimulatorThread` (a background thread), both on 127.0.0.1 port 0.
"""

from .failures import FailureMode
from .script import Script, load_script, parse_script, standard_script_path
from .server import HOST, Simulator, SimulatorThread
from .trader import StepResult, Trader, TraderError, run_script
from .world import AccountSpec, ConfigError, ContractSpec, SimConfig, load_config

__all__ = [
    "HOST",
    "AccountSpec",
    "ConfigError",
    "ContractSpec",
    "FailureMode",
    "Script",
    "SimConfig",
    "Simulator",
    "SimulatorThread",
    "StepResult",
    "Trader",
    "TraderError",
    "load_config",
    "load_script",
    "parse_script",
    "run_script",
    "standard_script_path",
]
