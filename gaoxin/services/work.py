"""Work stamps: which units' inboxes an appeal's change touches, bumped once per transaction at commit.

cases.transition() calls touch() for every appeal it moves. The units that see the appeal then (its lead
department and co-handlers) and when the transaction commits (the lead it was sent to, the co-handlers it
got) each get their stamp's version raised by one, in the same transaction, just before COMMIT — so the
row locks are held for the shortest time, taken in unit order (no deadlock between two commits), and a
rolled-back change bumps nothing. The inbox's live check compares one stamp with the one its page has.
"""
import functools

from flask import g, has_app_context
from sqlalchemy import BigInteger, bindparam, event, literal, or_, select
from sqlalchemy.orm import Session

from ..database import dialect_insert
from ..extensions import db
from ..models import Unit, UnitKind, User, WorkStamp, utcnow
from ..models.base import UTCDateTime

#: session.info key: {appeal: units that saw it when it was touched}.
_TOUCHED = "gaoxin.work.touched"
#: flask.g key: {unit id: stamp} read with the request's user (services.work.preload).
_PRELOADED = "work_stamps"


def _units_of(appeal):
    units = {appeal.lead_unit_id, *(c.unit_id for c in appeal.co_handlers)}
    units.discard(None)
    return units


def touch(appeal):
    """Note that `appeal` changes in this transaction: the units that see it now, and at commit, get a new stamp."""
    touched = db.session.info.setdefault(_TOUCHED, {})
    touched.setdefault(appeal, set()).update(_units_of(appeal))


def stamp(unit_id):
    """The unit's stamp as (version, changed_at), or None before its first change: one primary-key lookup.
    The time makes it unique to this database's history (a rebuilt database restarts the versions)."""
    if unit_id is None:
        return None
    preloaded = g.get(_PRELOADED) if has_app_context() else None
    if preloaded is not None and unit_id in preloaded:
        return preloaded[unit_id]
    row = db.session.execute(
        select(WorkStamp.version, WorkStamp.changed_at).where(WorkStamp.unit_id == unit_id)).first()
    return tuple(row) if row else None


def stamp_columns(user_id):
    """The stamp of user `user_id`'s unit as two columns, for the user loader's statement (see preload)."""
    return tuple(select(column).join(User, User.unit_id == WorkStamp.unit_id).where(User.id == user_id)
                 .scalar_subquery() for column in (WorkStamp.version, WorkStamp.changed_at))


def preload(unit_id, version, changed_at):
    """The unit's stamp as read by the request's first statement: stamp() answers from it until this request
    changes anything (bump). Read earlier than the data it labels, which is the safe order: a cache entry may
    hold data newer than its stamp, never older (the next stamp recomputes it)."""
    g.setdefault(_PRELOADED, {})[unit_id] = (version, changed_at) if version is not None else None


@functools.cache
def _bump_statement(dialect):
    """The stamps' UPSERT, built once per worker and dialect (building it took more CPU than running it)."""
    units = (select(Unit.id, literal(1, BigInteger), bindparam("now", type_=UTCDateTime))
             .where(or_(Unit.id.in_(bindparam("unit_ids", expanding=True)),
                        Unit.kind == UnitKind.dispatch_centre.value))
             .order_by(Unit.id))
    statement = dialect_insert(dialect)(WorkStamp).from_select(["unit_id", "version", "changed_at"], units)
    return statement.on_conflict_do_update(
        index_elements=[WorkStamp.unit_id],
        set_={"version": WorkStamp.version + 1, "changed_at": statement.excluded.changed_at},
    )


def bump(session, unit_ids):
    """Raise the stamps of these units and of every dispatch centre by one (creating missing rows), in unit
    order. The dispatch centre's queue, extension requests and overdue list span every unit: any change to
    any appeal may change them, so its stamp moves with every change (services.queues.dispatch_counts)."""
    statement = _bump_statement(session.get_bind().dialect.name)
    session.connection().execute(statement, {"unit_ids": sorted(set(unit_ids)), "now": utcnow()})
    if has_app_context():
        g.pop(_PRELOADED, None)  # this request's later reads see its own change


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session):
    touched = session.info.get(_TOUCHED)
    if not touched:
        return
    # Flush first: the appeal's own UPDATE (with its version check) takes its row lock before the stamps'.
    session.flush()
    units = set()
    for appeal, before in session.info.pop(_TOUCHED, {}).items():
        units |= before
        if not db.inspect(appeal).deleted:
            units |= _units_of(appeal)
    bump(session, units)


@event.listens_for(Session, "after_rollback")
def _forget_touched(session):
    session.info.pop(_TOUCHED, None)
