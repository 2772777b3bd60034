"""The drain: sends one organisation's waiting documents to Xero, in dependency order, in batches.

A pass goes through the kinds in ``DOCUMENT_KINDS`` order (contacts before the invoices that name
them, invoices before the payments of them). For each kind it repeatedly:

1. **claims** up to 50 due documents in a short transaction: builds what to send from our rows,
   marks them ``sending`` with a lease, and commits, so a drain that dies mid-call leaves a trace;
2. **looks up** what may already be in Xero: every document a previous send left in doubt (a lost
   answer, a dead worker), and every new contact (matched by our id, then name or e-mail);
3. **sends** the rest in one call with ``summarizeErrors=false`` and an ``Idempotency-Key`` made of
   the documents' ids and versions, inside the organisation's rate limits (``throttle``);
4. **records** each document's outcome and the call's journal entry in one transaction.

Failures are sorted: Xero's validation errors (and our own missing mappings) wait on the document
for the operator; a refused token pauses the connection; 429s hold the organisation off for as long
as Xero asks; outages and lost answers are retried with backoff, a lost answer after a look-up.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
import structlog

from app.db.session import tenant_transaction
from app.integrations.xero import payloads
from app.integrations.xero.client import (
    XeroAmbiguous,
    XeroAuthError,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
    XeroRejected,
    XeroUnavailable,
)
from app.integrations.xero.kinds import KINDS, Claimed, Kind, Outcome, Settled, Work
from app.integrations.xero.lookup import look_up
from app.integrations.xero.models import DOCUMENT_KINDS, XeroDocument, XeroJournalEntry
from app.integrations.xero.repository import ConnectionRepository, DocumentRepository
from app.integrations.xero.throttle import ThrottleTimeout, XeroThrottle
from app.integrations.xero.tokens import Access, XeroNeedsReconnect, access, client_of, refused_by_xero
from app.state import AppState

log = structlog.get_logger()

BATCH = 50
LEASE = timedelta(minutes=5)  # longer than a slot's wait plus a call's timeout
# Seconds a drain may wait in place (for a call slot, or a retry due); a longer wait ends the drain
# with ``come_back_in``, and the worker puts the job back on the queue for then, so an organisation
# at its limit does not hold a worker's job slot while its minute runs out.
HAND_BACK = 2.0
WAITING = timedelta(seconds=30)  # a document whose dependency is not in Xero yet looks again after this
# Seconds a drain runs before it makes way: it goes back on the queue behind the drains waiting
# for a worker's job slot, so a backlog at some organisations never holds up the others' start.
TURN = 10.0
SOON = 10.0  # a retry due within this many seconds brings the drain back for it
_ENCODER = msgspec.json.Encoder(decimal_format="number")


@dataclass
class Drained:
    calls: int = 0
    synced: int = 0
    refused: int = 0
    stopped: str | None = None
    come_back_in: float | None = None  # seconds: run the drain again then (a slot or a retry is due)


# --- the drain ------------------------------------------------------------------------------------


async def drain(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> Drained:
    """Send everything due for this organisation, kind by kind, until nothing is due. A wait of
    more than ``HAND_BACK`` seconds (for a call slot, or a retry due within ``SOON``), or the end
    of its turn (``TURN`` seconds, at least one batch), ends the drain with ``come_back_in``
    instead. Safe to run twice, and beside another drain of the same organisation: each document
    is claimed by one of them at a time."""
    report, turn_ends = Drained(), time.monotonic() + TURN
    while report.stopped is None:
        progressed = False
        for name in DOCUMENT_KINDS:
            while report.stopped is None and await _one_batch(state, tenant_id, connection_id, KINDS[name], report):
                progressed = True
                if report.stopped is None and time.monotonic() >= turn_ends:  # back at once, behind others
                    report.stopped, report.come_back_in = "turn", 0.0
        if report.stopped is not None or progressed:
            continue
        async with tenant_transaction(state, tenant_id) as session:
            due = await DocumentRepository(session, tenant_id).next_due(connection_id)
        wait = None if due is None else (due - state.clock.now()).total_seconds()
        if wait is None or wait > SOON:
            break
        if wait > HAND_BACK:
            report.come_back_in = wait
            break
        await asyncio.sleep(max(wait, 0.05))
    log.info(
        "xero.drain.done", calls=report.calls, synced=report.synced, refused=report.refused, stopped=report.stopped
    )
    return report


async def _claim(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: Kind) -> Claimed | None:
    """Up to a batch of due documents of ``kind``, marked as being sent; None once none are due
    (or the connection is no longer live)."""
    async with tenant_transaction(state, tenant_id) as session:
        connection = await ConnectionRepository(session, tenant_id).get(connection_id)
        if connection is None or connection.status != "active":
            raise _Paused
        now = state.clock.now()
        docs = await DocumentRepository(session, tenant_id).claim(connection_id, kind.name, now, BATCH, now + LEASE)
        if not docs:
            return None
        return await kind.prepare(session, tenant_id, docs)


async def _one_batch(
    state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: Kind, report: Drained
) -> bool:
    try:
        claimed = await _claim(state, tenant_id, connection_id, kind)
    except _Paused:
        report.stopped = "paused"
        return False
    if claimed is None:
        return False
    outcomes: dict[uuid.UUID, Settled] = dict(claimed.settled)
    journal: list[XeroJournalEntry] = []
    works = claimed.works
    try:
        granted = await access(state, tenant_id, connection_id)
    except XeroNeedsReconnect as problem:
        report.stopped = "needs_reconnect"
        _all(outcomes, works, Outcome("retry", error_kind="auth", error=str(problem)))
    except XeroError as problem:
        report.stopped = "unreachable"
        _all(outcomes, works, _retry(str(problem)))
    else:
        call = _Caller(state, tenant_id, granted, kind, journal, report)
        try:
            await look_up(call, kind, works)
            await _send(call, kind, works, outcomes)
        except _Stop as stop:
            report.stopped = stop.reason if stop.final else None
            _all(outcomes, [w for w in works if w.doc_id not in outcomes], stop.outcome)
    await _record(state, tenant_id, outcomes, journal, report)
    return True


def _all(outcomes: dict[uuid.UUID, Settled], works: Sequence[Work], outcome: Outcome) -> None:
    """The same outcome for each of these works (a document in doubt stays so: see ``_apply``)."""
    for work in works:
        outcomes[work.doc_id] = (work.version, work.lease, outcome)


def _retry(message: str, after: float = 0.0, *, in_doubt: bool = False, backoff: bool = True) -> Outcome:
    """Try again: after ``after`` seconds, or (``backoff``) after a wait that grows with the
    document's attempts."""
    return Outcome(
        "retry", error_kind="transient", error=message[:500], in_doubt=in_doubt, retry_in=after, backoff=backoff
    )


class _Paused(Exception):
    """The connection is not live (paused for a reconnect, or disconnected): nothing is sent."""


class _Stop(Exception):
    """The batch cannot go on. ``final``: nor can the drain (the connection is refused, Xero is
    down, a long hold-off); otherwise the drain carries on once the organisation's hold passes."""

    def __init__(self, reason: str, outcome: Outcome, *, final: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.outcome, self.final = reason, outcome, final


class _Caller:
    """Calls for one batch: inside the organisation's limits, each one journalled, failures sorted."""

    def __init__(
        self,
        state: AppState,
        tenant_id: uuid.UUID,
        granted: Access,
        kind: Kind,
        journal: list[XeroJournalEntry],
        report: Drained,
    ) -> None:
        self.state, self.tenant_id, self.granted, self.kind = state, tenant_id, granted, kind
        self.journal, self.report = journal, report

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        items: int = 0,
    ) -> Any:
        state, granted = self.state, self.granted
        throttle = state.providers.get(XeroThrottle)
        assert throttle is not None  # held whenever the app is
        try:
            async with throttle.slot(granted.xero_tenant_id, max_wait=HAND_BACK):
                started, status, outcome = time.monotonic(), None, "ok"
                try:
                    answer = await client_of(state).call(
                        granted.token,
                        granted.xero_tenant_id,
                        method,
                        path,
                        body=body,
                        params=params,
                        idempotency_key=key,
                    )
                    status = 200
                    return answer.body
                except XeroError as problem:
                    status, outcome = problem.status, str(problem)[:500]
                    if isinstance(problem, XeroRateLimited):
                        await throttle.hold_off(granted.xero_tenant_id, problem.retry_after, problem.problem)
                    raise
                finally:
                    self.report.calls += 1
                    self.journal.append(
                        XeroJournalEntry(
                            tenant_id=self.tenant_id,
                            connection_id=granted.connection_id,
                            at=state.clock.now(),
                            method=method,
                            path=path[:300],
                            kind=self.kind.name,
                            items=items,
                            idempotency_key=key,
                            status_code=status,
                            outcome=outcome,
                            duration_ms=int((time.monotonic() - started) * 1000),
                        )
                    )
        except ThrottleTimeout as waited:
            # The organisation's calls are spent for now: the batch, and the drain, come back when
            # the next slot opens (not an attempt that failed, so nothing to show on the documents).
            self.report.come_back_in = waited.retry_in
            raise _Stop("throttled", Outcome("waiting", retry_in=waited.retry_in)) from None
        except XeroRateLimited as problem:
            # Held off in Redis for every worker; a short hold is waited out by the next slot.
            long_hold = problem.retry_after > HAND_BACK
            if long_hold:
                self.report.come_back_in = problem.retry_after
            raise _Stop(
                "rate_limited",
                _retry(str(problem), problem.retry_after if long_hold else 0, backoff=False),
                final=long_hold,
            ) from None
        except XeroAuthError as problem:
            await refused_by_xero(state, self.tenant_id, granted, problem.status)
            # A 401 forgot the token: the next batch refreshes it (and learns whether the grant
            # stands). A 403 paused the connection: the drain ends.
            retry = Outcome("retry", error_kind="auth", error=str(problem)[:500], backoff=True)
            raise _Stop("auth", retry, final=problem.status != 401) from None
        except XeroAmbiguous as problem:
            raise _Stop("ambiguous", _retry(str(problem), in_doubt=True)) from None
        except XeroUnavailable as problem:
            # A 500 may come after the write was made; a 503 or no connection means it was not.
            raise _Stop("unavailable", _retry(str(problem), in_doubt=problem.status == 500)) from None


# --- sending ----------------------------------------------------------------------------------------


def idempotency_key(kind: Kind, works: Sequence[Work], body: bytes) -> str:
    """The documents and versions in the call, and what is said of them: a replay of the very
    same call is answered from Xero's memory; anything else is a new call."""
    digest = hashlib.sha256(kind.name.encode())
    for work in works:
        digest.update(f"{work.object_id}:{work.version};".encode())
    digest.update(body)
    return f"flexledger-{kind.name}-{digest.hexdigest()[:48]}"


def _answered(kind: Kind, work: Work, element: dict[str, Any]) -> Outcome:
    """What Xero's answer for one element means for its document."""
    messages = payloads.validation_messages(element)
    if messages or element.get("StatusAttributeString") == "ERROR" or element.get("HasErrors"):
        message = "; ".join(messages) or "Xero refused it without saying why."
        return Outcome("invalid", error_kind="validation", error=message[:2000], hint=payloads.hint_for(message))
    xero_id = element.get(kind.id_key) or work.xero_id
    number = element.get(kind.number_key) if kind.number_key else None
    differs = (
        work.check(element) if work.check is not None and element.get("Status") not in ("VOIDED", "DELETED") else None
    )
    if differs:
        hint = (
            "Check the tax types and account codes mapped for the location (a rate's components in the same "
            "order as here); Xero rounds each line's tax."
        )
        return Outcome(
            "mismatch", xero_id, number, element.get("Status"), "mismatch", f"Xero's figures differ: {differs}.", hint
        )
    return Outcome("synced", xero_id, number, element.get("Status"))


async def _send(call: _Caller, kind: Kind, works: Sequence[Work], outcomes: dict[uuid.UUID, Settled]) -> None:
    groups: dict[str, list[tuple[Work, dict[str, Any]]]] = defaultdict(list)
    for work in works:
        if work.doc_id in outcomes:
            continue
        body = work.build(work.xero_id)
        voiding = body is not None and body.get("Status") in ("VOIDED", "DELETED")
        if work.found is not None and kind.name != "contact" and not voiding:
            outcomes[work.doc_id] = (work.version, work.lease, _answered(kind, work, work.found))
        elif body is None:  # voided before it reached Xero, or already there
            outcomes[work.doc_id] = (work.version, work.lease, Outcome("synced", work.xero_id))
        else:
            groups[work.path].append((work, body))
    for path, group in groups.items():
        sent = [work for work, _ in group]
        plural = kind.plural
        payload = {plural: [body for _, body in group]}
        key = idempotency_key(kind, sent, _ENCODER.encode(payload))
        params = kind.params | {"summarizeErrors": "false"}
        try:
            answer = await call(kind.method, path, params=params, body=payload, key=key, items=len(group))
            elements = answer.get(plural) or []
        except XeroRejected as problem:  # the request as a whole (not one element) was refused
            body = problem.body if isinstance(problem.body, dict) else {}
            elements = body.get("Elements") or []
            if len(elements) != len(group):
                message = str(body.get("Message") or problem)[:2000]
                elements = [{"ValidationErrors": [{"Message": message}]}] * len(group)
        except XeroNotFound:
            elements = [{"ValidationErrors": [{"Message": f"Xero has no {path.split('/')[0]} {path}."}]}] * len(group)
        if len(elements) != len(group):  # an answer we cannot pair up: look everything up next time
            _all(outcomes, sent, _retry("Xero's answer did not list every document sent.", in_doubt=True))
            continue
        for work, element in zip(sent, elements, strict=True):
            outcomes[work.doc_id] = (work.version, work.lease, _answered(kind, work, element))


# --- recording ----------------------------------------------------------------------------------------


async def _record(
    state: AppState,
    tenant_id: uuid.UUID,
    outcomes: dict[uuid.UUID, Settled],
    journal: list[XeroJournalEntry],
    report: Drained,
) -> None:
    async with tenant_transaction(state, tenant_id) as session:
        session.add_all(journal)
        docs = await DocumentRepository(session, tenant_id).locked(list(outcomes))
        now = state.clock.now()
        for doc_id, (version, lease, outcome) in outcomes.items():
            doc = docs.get(doc_id)
            if doc is None or doc.status != "sending" or doc.lease_until != lease:
                continue  # the lease ran out and another drain has it now
            _apply(doc, version, outcome, now)
            report.synced += outcome.status == "synced"
            report.refused += outcome.status in ("invalid", "mismatch")


def _apply(doc: XeroDocument, version: int, outcome: Outcome, now: datetime) -> None:
    newer = doc.version > version  # changed again while this send was out: send that too
    doc.lease_until = None
    doc.error_kind, doc.error, doc.hint = outcome.error_kind, outcome.error, outcome.hint
    if outcome.status in ("synced", "mismatch"):
        doc.synced_version, doc.synced_at, doc.attempts, doc.in_doubt = version, now, 0, False
        doc.xero_id = outcome.xero_id or doc.xero_id
        doc.xero_number = outcome.xero_number or doc.xero_number
        doc.xero_status = outcome.xero_status or doc.xero_status
        doc.status, doc.next_attempt_at = ("pending", now) if newer else (outcome.status, doc.next_attempt_at)
    elif outcome.status == "invalid":
        doc.in_doubt = False
        doc.status, doc.next_attempt_at = ("pending", now) if newer else ("invalid", doc.next_attempt_at)
    elif outcome.status == "waiting":
        wait = timedelta(seconds=outcome.retry_in) if outcome.retry_in else WAITING
        doc.status, doc.attempts, doc.next_attempt_at = "pending", max(doc.attempts - 1, 0), now + wait
    else:
        delay = (
            max(outcome.retry_in, min(2.0 ** max(doc.attempts - 1, 0), 900.0)) if outcome.backoff else outcome.retry_in
        )
        doc.status, doc.next_attempt_at = "pending", now + timedelta(seconds=delay)
        doc.in_doubt = doc.in_doubt or outcome.in_doubt
