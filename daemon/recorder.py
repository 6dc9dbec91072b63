"""Recording: one job, writing down what happened.

- every input line, as the pipeline took it, to the ``--record`` file (the dry-run format:
  ``riskrail dry-run FILE`` replays it through the same pipeline and plans the same calls);
- to the state store, before a line's calls leave (``ahead``), in a commit of its own:
  each call that must not be sent twice (a partial close, a placement, a modification),
  and the intent of each new constraint it serves, so that a daemon killed between a
  send and the unit's commit leaves the knowledge that the call was made; a repeatable
  call (a close, a cancel) is written with the unit, just after its send;
- to the state store, in the unit of work's transaction: each decision (with the desired
  state it asserts and the calls planned for it) in the hash-chained decision log; each
  constraint as an intent, closed with its outcome (done, noop, replaced, ended) when the
  reconciler retires it; each call, each call's outcome and each failed call as log
  records too (trigger ``enforcement``); alerts of enforcement that keeps failing as
  critical decisions.

It never decides anything; apart from ``ahead``, it is called after the calls of a line
have left.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.enforce import ActiveConstraint, Call
from riskrail.engine.errors import RiskrailError
from riskrail.engine.files import file_path_problem
from riskrail.engine.network.decisions import Decision
from riskrail.engine.pipeline import Step

from .console import call_text, decision_text
from .logs import checkpoint, log
from .store import StateStore

__all__ = ["EXIT_RECORD_FILE", "Line", "RecordFileError", "Recorder"]

#: ``riskrail run``'s exit code when the --record file cannot be opened for appending
EXIT_RECORD_FILE = 9


class RecordFileError(RiskrailError):
    """The --record file cannot be opened for appending (a directory, read-only, its
    folder a file)."""

    exit_code = EXIT_RECORD_FILE


def _open_record(record_path: str) -> int:
    """The record file opened for appending (a file descriptor), or RecordFileError
    naming what is wrong with it."""
    path = Path(record_path)
    try:
        problem = file_path_problem(record_path)
        if problem is not None:
            raise RecordFileError(f"--record {record_path}: {problem}")
        path.parent.mkdir(parents=True, exist_ok=True)
        # not blocking: a FIFO no process reads hung the start, before any connection
        # (ENXIO instead); the writes block as before
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        os.set_blocking(fd, True)
        return fd
    except OSError as error:
        raise RecordFileError(f"--record {record_path}: cannot be opened for appending "
                              f"({error.strerror})") from error


@dataclass(slots=True)
class Line:
    """One input line as the pipeline took it."""

    now: int
    type: str
    data: Any
    contract_id: str | None = None
    _record: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        """The line of the record file: {"ts", "type", "data"[, "contractId"]}."""
        if self._record is None:
            self._record = {"ts": to_iso(self.now), "type": self.type, "data": self.data}
            if self.contract_id is not None:
                self._record["contractId"] = self.contract_id
        return self._record


class Recorder:
    """Writes the ``--record`` file and the store's log (see the module doc)."""

    def __init__(self, store: StateStore, record_path: str | None, run: str) -> None:
        self.store = store
        self.run = run
        # "" is refused as naming no file (it recorded nothing, unsaid, before)
        self.path = Path(record_path) if record_path is not None else None
        #: the record file (appended with os.write, so that what a full disk refused is
        #: known to the byte and written later, never twice nor half)
        self._fd: int | None = None
        #: bytes of lines the file refused, kept in memory to retry (``retry``)
        self._unwritten: list[bytes] = []
        self._failure: str | None = None
        #: the instant of the record file's last line: no line is stamped before it (a
        #: restart's first lines were stamped with the wall clock before the daemon's
        #: clock caught up with the store, behind the last run's lines, and a replay
        #: refuses a line that goes back in time)
        self.last_instant: int | None = None
        if record_path is not None:
            self._fd = _open_record(record_path)
            self.last_instant = _last_instant(Path(record_path))
        self._lines: list[Line] = []
        #: constraint id -> its intent id in the store (held ones)
        self._intents: dict[int, str] = {}
        #: constraint ids whose intent was written ahead of its calls, its decision's
        #: record not yet (``step`` gives the intent its seq)
        self._ahead: set[int] = set()
        self._lasting: set[int] = set()
        #: call id -> (the call, its record, sent at, until): sent calls whose row is not
        #: in the store yet (repeatable ones, written with the unit: ``ahead``)
        self._unwritten_calls: dict[str, tuple[Call, dict[str, Any], int, int]] = {}
        self.decisions = 0
        self.calls = 0

    def close(self) -> None:
        if self._fd is not None:
            self.flush_lines()
            self.retry()
            os.close(self._fd)
            self._fd = None

    # ------------------------------------------------------------------ the record file
    def line(self, now: int, kind: str, payload: Any, contract_id: str | None = None
             ) -> Line:
        """Keep one input line for the record file, in the order the pipeline takes
        them (written by ``flush_lines``, once the calls it causes have left); the line,
        made into text only then (its time formatting is no work for the event path)."""
        if self.last_instant is not None and now < self.last_instant:
            now = self.last_instant
        self.last_instant = now
        line = Line(now, kind, payload, contract_id)
        if self._fd is not None:
            self._lines.append(line)
        return line

    def flush_lines(self) -> None:
        """Write the lines kept so far, in order. While the file refuses writes (a full
        disk), they join the bytes kept for ``retry`` instead (no attempt on the event
        path)."""
        if self._fd is None or not self._lines:
            return
        lines, self._lines = self._lines, []
        data = "".join(json.dumps(line.record()) + "\n" for line in lines).encode("utf-8")
        if self._unwritten:
            self._unwritten.append(data)
            return
        self._write(data)

    @property
    def pending(self) -> int:
        """Bytes of lines the record file refused, kept to retry."""
        return sum(len(chunk) for chunk in self._unwritten)

    def take_failure(self) -> str | None:
        """Why writing the record file failed, once per failure (None: no news)."""
        failure, self._failure = self._failure, None
        return failure

    def retry(self) -> bool:
        """Write the bytes the file refused; True when none is left."""
        if self._fd is None or not self._unwritten:
            return True
        data = b"".join(self._unwritten)
        self._unwritten = []
        return self._write(data, retrying=True)

    def _write(self, data: bytes, retrying: bool = False) -> bool:
        assert self._fd is not None
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError as error:
            self._unwritten = [data[written:]]
            if self._failure is None and not retrying:
                # a retry that fails again is the same failure, not news: reported once
                self._failure = f"{error.strerror or error}"
            return False
        return True

    # ------------------------------------------------------------------ the store
    def ahead(self, step: Step, now: int, until: int,
              sides: dict[str, int | None]) -> None:
        """Before the step's calls are sent: each call that must not be sent twice (a
        partial close, a placement, a modification: its record, the position's side, and
        ``until``: the instant after which it can no longer land) and the intent of each
        new constraint it serves, in one commit of their own. A crash after the send then
        leaves the call on record, in flight with its outcome unknown; a restart counts it
        as in flight instead of deciding blind. A repeatable call (a close, a cancel:
        harmless twice) needs no such commit: it is kept here and written with the unit's
        other writes, after the send (``step``); a crash before that commit loses its
        record, and the restart, which reads the Gateway and decides from what it finds,
        sends it again if the position or the order is still there."""
        serving: set[int] = set()
        for call in step.plan.calls:
            record = call.to_dict()
            side = sides.get(call.id)
            if side is not None:
                record["positionSide"] = side
            self._unwritten_calls[call.id] = (call, record, now, until)
            if not call.repeatable:
                serving.update(call.serves)
        if all(call.repeatable for call in step.plan.calls):
            return
        store = self.store
        with store.transaction():
            for index, decision in enumerate(step.decisions):
                constraint = step.constraints[index]
                if constraint is not None and constraint.id in serving \
                        and constraint.id not in self._intents:
                    self._hold(constraint, decision, now)
                    self._ahead.add(constraint.id)
            for call in step.plan.calls:
                if not call.repeatable:
                    self._write_call(call.id)

    def _write_call(self, call_id: str) -> None:
        """The store's row of a sent call kept by ``ahead``."""
        kept = self._unwritten_calls.pop(call_id, None)
        if kept is None:
            return
        call, record, sent_at, until = kept
        self.store.record_call(call.id, self.run, call.account,
                               [self._intents[i] for i in call.serves if i in self._intents],
                               record, sent_at, until)

    def step(self, step: Step, source: Line | None, now: int, revision: str,
             zone: ZoneInfo) -> None:
        """Everything a step made, in the store's log (inside the unit's transaction)."""
        store = self.store
        line = source.record() if source is not None else None
        if line is not None and line.get("type") == "Enforcement" \
                and isinstance(line.get("data"), dict) and line["data"].get("event") == "outcome":
            data = line["data"]
            store.append_decision({"ts": line["ts"], "account": _account(data.get("call")),
                                   "rule": "", "action": "call_outcome",
                                   "call": data.get("call"), "status": data.get("status"),
                                   "detail": data.get("detail"), "trigger": "enforcement"},
                                  input=None, revision=revision)
            store.call_outcome(str(data.get("call")), str(data.get("status")),
                               str(data.get("detail") or ""), now)
        elif line is not None and line.get("type") == "Enforcement" \
                and isinstance(line.get("data"), dict) \
                and line["data"].get("event") == "inherited":
            self._inherited(line, revision, zone)
        for index, decision in enumerate(step.decisions):
            self.decisions += 1
            record = decision.to_dict(zone)
            seq = store.append_decision(record, input=line, revision=decision.revision)
            # superseded firings are shown too: they are why the log says what it says
            checkpoint("rule_evaluated", decision_text(decision, zone), decision=record,
                       seq=seq)
            constraint = step.constraints[index]
            if constraint is not None and constraint.id in self._ahead:
                self._ahead.discard(constraint.id)  # its intent went ahead of its calls
                constraint.seq = seq
                store.set_intent_decision(self._intents[constraint.id], seq)
            elif constraint is not None and constraint.id not in self._intents:
                constraint.seq = seq
                self._hold(constraint, decision, now)
        for call in step.plan.calls:
            self._write_call(call.id)  # a repeatable one: its row after its send
            self._call(call, now, zone, revision, assumed=call in step.assumed)
        for settled in step.plan.settled:
            store.call_outcome(settled.flight.call.id, "done" if settled.ok else "failed",
                               settled.detail, now)
            if not settled.ok:
                log.warning("call %s (%s) did not do it: %s", settled.flight.call.id,
                            settled.flight.call.describe(), settled.detail,
                            extra={"fields": {"event": "call_failed",
                                              "call": settled.flight.call.id}})
                store.append_decision({
                    "ts": to_iso(now, zone), "account": settled.flight.call.account,
                    "rule": "", "action": "call_failed", "call": settled.flight.call.id,
                    "text": settled.flight.call.describe(), "detail": settled.detail,
                    "trigger": "enforcement"}, input=None, revision=revision)
        for retired in step.plan.retired:
            intent = self._intents.pop(retired.constraint.id, None)
            if intent is None:
                continue
            store.record_outcome(intent, retired.status, retired.detail,
                                 len(retired.constraint.calls), now)
            level = 20 if retired.status in _OUTCOME_WORDS else 40
            log.log(level, "constraint %s: %s", retired.constraint.describe(),
                    _outcome_text(retired.status, retired.detail, len(retired.constraint.calls),
                                  retired.constraint.describe()),
                    extra={"fields": {"event": "constraint_retired", "intent": intent,
                                      "status": retired.status}})

    def _inherited(self, line: dict[str, Any], revision: str, zone: ZoneInfo) -> None:
        """A call an earlier run sent and never saw settle (it died): on the console and
        in the log as in flight, its outcome unknown (the decision log may not have it at
        all: that run may have died before its unit's commit), and so in the store."""
        data = line["data"]
        record = data.get("call") if isinstance(data.get("call"), dict) else {}
        call_id = str(record.get("call"))
        until = data.get("until")
        if not data.get("reported"):
            until_text = to_iso(until, zone) if isinstance(until, int) else "?"
            last = data.get("status")
            detail = (f"sent by run {data.get('run')}, which stopped before its outcome was "
                      "known" + (f" (its last answer: {last})" if last else "")
                      + f"; it may still land until {until_text}: until then it counts as "
                      "in flight and is not sent again, then the Gateway's state decides")
            log.warning("call %s (%s) was in flight, outcome unknown: %s", call_id,
                        record.get("text"), detail,
                        extra={"fields": {"event": "call_in_flight_at_start",
                                          "call": call_id, "run": data.get("run")}})
            self.store.append_decision({
                "ts": line["ts"], "account": _account(call_id),
                "rule": ", ".join(str(r) for r in record.get("rules") or ()),
                "action": "call_in_flight", **record, "status": "unknown",
                "detail": detail, "trigger": "enforcement"}, input=None, revision=revision)
            self.store.call_outcome(call_id, "unknown", detail, parse_instant(line["ts"]))

    def alert(self, decision: Decision, zone: ZoneInfo) -> int:
        """A critical alert of enforcement that keeps failing (a decision of its own)."""
        record = decision.to_dict(zone)
        seq = self.store.append_decision(record, input=None, revision=decision.revision)
        log.critical("%s", decision.reason, extra={"fields": {"event": "enforcement_alert",
                                                              "decision": record}})
        return seq

    def unfinished(self, now: int) -> None:
        """At shutdown: a lock's constraint was held to the end (the lock lives on in the
        store and is held again at the next start); any other still stood."""
        for constraint_id, intent in self._intents.items():
            if constraint_id in self._lasting:
                self.store.record_outcome(intent, "held", "held until the daemon stopped; "
                                          "the lock goes on", 0, now)
            else:
                self.store.record_outcome(intent, "unknown",
                                          "the daemon stopped while it stood", 0, now)
        self._intents.clear()

    def _hold(self, constraint: ActiveConstraint, decision: Decision, now: int) -> None:
        intent = f"{self.run}:{constraint.account}:{constraint.id}"
        self._intents[constraint.id] = intent
        if constraint.lasting:
            self._lasting.add(constraint.id)
        scope = {name: getattr(decision, name) for name in ("contract", "symbol", "order_id")
                 if getattr(decision, name) is not None}
        # the rule and its entity: a restart decides again what stood when it stopped
        self.store.record_intent(intent, constraint.account, constraint.action, {
            "rule": constraint.rule, **scope, "constraint": str(constraint.constraint),
            "decision": constraint.seq, "reason": decision.reason}, now)

    def _call(self, call: Call, now: int, zone: ZoneInfo, revision: str, *,
              assumed: bool) -> None:
        self.calls += 1
        rules = call.rules
        record = {"ts": to_iso(now, zone), "account": call.account,
                  "rule": ", ".join(rules), "action": "call", **call.to_dict(),
                  "trigger": "enforcement"}
        if assumed:
            record["sent"] = False
        self.store.append_decision(record, input=None, revision=revision)
        checkpoint("enforcement_triggered", ("plan (not sent) " if assumed else "enforce ")
                   + call_text(call, ", ".join(rules)), call=call.id, endpoint=call.endpoint)


def _account(call_id: Any) -> int | None:
    if isinstance(call_id, str) and call_id.partition(":")[0].isdigit():
        return int(call_id.partition(":")[0])
    return None


#: how much of the record file's end is read for its last line at start (bounded: a file
#: that grows while read, or a device, must not be read whole)
_TAIL_BYTES = 1_048_576


def _last_instant(path: Path) -> int | None:
    """The ``ts`` of the file's last complete line (None: no file, or none readable)."""
    if not path.is_file():
        return None  # none yet, or a device (/dev/full, a FIFO): it has no last line to read
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read(_TAIL_BYTES).decode("utf-8", errors="replace")
    for text in reversed(tail.splitlines()):
        try:
            record = json.loads(text)
            return parse_instant(record["ts"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


#: a retired constraint's outcome, in words (the store keeps the status itself)
_OUTCOME_WORDS = {"done": "met after {calls} call(s)", "noop": "already met, nothing to send",
                  "replaced": "replaced", "ended": "ended"}


def _outcome_text(status: str, detail: str, calls: int, described: str) -> str:
    """``met after 2 call(s)``, ``already met, nothing to send``: what became of a
    constraint; its detail when it says more than the constraint itself."""
    words = _OUTCOME_WORDS.get(status, status).format(calls=calls)
    return words if described.endswith(detail) else f"{words} ({detail})"
