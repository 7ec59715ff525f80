"""Salons (高新沙龙) from sign-up to summary: create, publish, public sign-ups, participants, state changes,
the live board, the summary and the year totals.

Raises SalonRefused (with the form field its message belongs beside) for a rule broken: no department, a
closed salon, a bad credit code, a move its state does not allow. Flushes, never commits.
"""
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import distinct, func, select, union

from ..extensions import db
from ..models import Appeal, Contact, Enterprise, ReplyOutcome, Unit, UnitKind, utcnow
from ..models.salon import (
    SALON_TRANSITIONS, ParticipantSource, Salon, SalonParticipant, SalonSignup, SalonState, SignupStatus,
)
from ..permissions import salon_organiser_name
from ..registry_text import CreditCodeError, classify_query, normalize_credit_code, validate_mobile
from ..workflow import ANSWERED_APPEAL_STATES
from . import audit
from .enterprises import find_by_credit_code, upsert_rows

#: Enterprises per table on the seating list.
SEATS_PER_TABLE = 8
#: The most lines one pasted list may hold.
PASTE_MAX_LINES = 500


class SalonRefused(Exception):
    """A change the salon rules refuse; `field` names the form field the message belongs beside."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def organiser_name():
    """The organising department's unit name (GAOXIN_SALON_ORGANISER, default 经济运行局)."""
    return salon_organiser_name()


def organiser_unit():
    """The configured organising department, or None when no active department has that name."""
    return db.session.scalar(select(Unit).where(Unit.name == organiser_name(), Unit.active.is_(True)))


def departments():
    """Active departments, in the order the forms list them."""
    return list(db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.department.value, Unit.active.is_(True)).order_by(Unit.id)))


# --------------------------------------------------------------------------- the salon


def create(actor, *, theme, held_on, venue=None, organiser=None, department_ids=None):
    """Record a salon. The quick record made at intake (theme, date, venue) has no departments; a salon
    planned by the organiser (department_ids given) needs at least one department (SalonRefused)."""
    salon = Salon(theme=theme.strip(), held_on=held_on, venue=(venue or "").strip() or None, created_by_id=actor.id,
                  state=SalonState.planned)
    if department_ids is not None:
        salon.departments = _departments_from(department_ids)
        salon.organiser_unit_id = organiser.id if organiser is not None else None
    db.session.add(salon)
    db.session.flush()
    audit.record("salon_created", salon, user=actor, detail=f"{held_on:%Y-%m-%d} {salon.theme}")
    return salon


def update(salon, actor, *, theme, held_on, venue, organiser, department_ids):
    """Change a salon not yet held (theme, date, venue, organiser, departments)."""
    if salon.state not in (SalonState.planned, SalonState.open):
        raise SalonRefused(f"沙龙{salon.state.title}，不能再修改。")
    units = _departments_from(department_ids)
    salon.theme, salon.held_on, salon.venue = theme.strip(), held_on, (venue or "").strip() or None
    salon.organiser_unit_id = organiser.id if organiser is not None else None
    salon.departments = units
    db.session.flush()
    audit.record("salon_updated", salon, user=actor, detail=salon.theme)


def _departments_from(department_ids):
    ids = {int(i) for i in department_ids or ()}
    units = [u for u in departments() if u.id in ids]
    if not units:
        raise SalonRefused("请至少选择一个参加的部门。", "department_ids")
    return units


#: action → (Chinese verb, audit action)
_MOVES = {"publish": ("发布报名", "salon_published"), "hold": ("标记为已举办", "salon_held"),
          "summarise": ("完成总结", "salon_summarised")}


def move(salon, actor, action, *, note=None):
    """Publish (planned → open), hold (planned/open → held) or summarise (held → summarised)."""
    target = SALON_TRANSITIONS[SalonState(salon.state)].get(action)
    verb, audit_action = _MOVES.get(action, (action, action))
    if target is None:
        raise SalonRefused(f"沙龙当前为“{salon.state.title}”，不能{verb}。")
    if action == "publish" and not salon.departments:
        raise SalonRefused("请先选择参加的部门，再发布报名。")
    salon.state = target
    if action == "summarise":
        salon.summary_note = (note or "").strip() or None
        salon.summarised_at = utcnow()
    db.session.flush()
    audit.record(audit_action, salon, user=actor, detail=salon.theme)


def listing(year=None):
    """Every salon (of `year`), newest first."""
    query = select(Salon).order_by(Salon.held_on.desc(), Salon.id.desc())
    if year:
        query = query.where(Salon.held_on >= date(year, 1, 1), Salon.held_on <= date(year, 12, 31))
    return list(db.session.scalars(query))


def recent(limit=30):
    """The latest salons, newest first, for the intake form's select."""
    return list(db.session.scalars(select(Salon).order_by(Salon.held_on.desc(), Salon.id.desc()).limit(limit)))


def get(salon_id):
    """The salon with this id, or None."""
    return db.session.get(Salon, salon_id) if salon_id else None


def open_salon(salon_id):
    """The salon with this id if it takes sign-ups now, else None."""
    salon = get(salon_id)
    return salon if salon is not None and salon.state == SalonState.open else None


# --------------------------------------------------------------------------- public sign-up


@dataclass
class SignupResult:
    """A sign-up stored (or the one already there), or {field: message} for every mistake."""

    signup: SalonSignup | None = None
    duplicate: bool = False
    errors: dict = field(default_factory=dict)


def sign_up(salon, *, enterprise_name, credit_code, contact_name, mobile, topic):
    """An enterprise signs up on the public page. A closed salon, a bad credit code or mobile are refused
    (every mistake at once); a second sign-up of the same credit code finds the first."""
    if salon is None or salon.state != SalonState.open:
        return SignupResult(errors={"form": "该沙龙目前不接受报名（未发布或已截止）。"})
    errors = {}
    name = (enterprise_name or "").strip()
    if not name:
        errors["enterprise_name"] = "请填写企业名称。"
    try:
        code = normalize_credit_code(credit_code or "")
    except CreditCodeError as exc:
        code, errors["credit_code"] = None, str(exc)
    if not (contact_name or "").strip():
        errors["contact_name"] = "请填写联系人姓名。"
    try:
        mobile = validate_mobile(mobile or "")
    except ValueError as exc:
        errors["mobile"] = str(exc)
    if not (topic or "").strip():
        errors["topic"] = "请填写希望在沙龙上反映的问题或建议。"
    if errors:
        return SignupResult(errors=errors)
    existing = db.session.scalar(select(SalonSignup).where(SalonSignup.salon_id == salon.id,
                                                           SalonSignup.credit_code == code))
    if existing is not None:
        return SignupResult(existing, duplicate=True)
    signup = SalonSignup(salon_id=salon.id, enterprise_name=name, credit_code=code,
                         contact_name=contact_name.strip(), mobile=mobile, topic=topic.strip())
    db.session.add(signup)
    db.session.flush()
    return SignupResult(signup)


def signups(salon):
    """The salon's sign-ups: pending first, then by time."""
    order = {SignupStatus.pending.value: 0, SignupStatus.accepted.value: 1, SignupStatus.declined.value: 2}
    rows = list(db.session.scalars(select(SalonSignup).where(SalonSignup.salon_id == salon.id).order_by(SalonSignup.id)))
    return sorted(rows, key=lambda s: order[s.status.value])


def signup_of(salon, signup_id):
    """One sign-up of this salon, or None."""
    return db.session.scalar(select(SalonSignup).where(SalonSignup.id == signup_id, SalonSignup.salon_id == salon.id))


def decide_signup(salon, signup, actor, *, accept):
    """Accept (the enterprise is registered if new and takes part; its contact is kept) or decline."""
    if salon.state == SalonState.summarised:
        raise SalonRefused("沙龙已总结，不能再处理报名。")
    if signup.status != SignupStatus.pending:
        raise SalonRefused(f"该报名已处理（{signup.status.title}）。")
    signup.status = SignupStatus.accepted if accept else SignupStatus.declined
    signup.decided_at, signup.decided_by_id = utcnow(), actor.id
    if accept:
        enterprise = find_by_credit_code(signup.credit_code)
        if enterprise is None:
            upsert_rows([{"credit_code": signup.credit_code, "name": signup.enterprise_name}])
            enterprise = find_by_credit_code(signup.credit_code)
            audit.record("enterprise_created", enterprise, user=actor, detail="沙龙报名时登记")
        if not any(c.mobile == signup.mobile for c in enterprise.contacts):
            db.session.add(Contact(enterprise_id=enterprise.id, name=signup.contact_name, mobile=signup.mobile))
        _add(salon, enterprise, ParticipantSource.signup, topic=signup.topic)
    db.session.flush()
    audit.record("salon_signup_accepted" if accept else "salon_signup_declined", salon, user=actor,
                 detail=f"{signup.enterprise_name}（{signup.credit_code}）")


# --------------------------------------------------------------------------- participants


def _add(salon, enterprise, source, topic=None):
    """Add one enterprise; False when it already takes part."""
    exists = db.session.get(SalonParticipant, (salon.id, enterprise.id))
    if exists is not None:
        return False
    db.session.add(SalonParticipant(salon_id=salon.id, enterprise_id=enterprise.id, source=source.value, topic=topic))
    db.session.flush()
    return True


def _check_open_for_changes(salon):
    if salon.state == SalonState.summarised:
        raise SalonRefused("沙龙已总结，不能再调整参会企业。")


def add_from_registry(salon, actor, enterprise):
    """Add an enterprise picked from the registry; False when it already takes part."""
    _check_open_for_changes(salon)
    added = _add(salon, enterprise, ParticipantSource.registry)
    if added:
        audit.record("salon_participants_added", salon, user=actor, detail=enterprise.name)
    return added


@dataclass
class PasteResult:
    """What a pasted list came to: enterprises added, already there, and (line, message) problems."""

    added: list = field(default_factory=list)
    already: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def add_pasted(salon, actor, text):
    """Add the enterprises of a pasted list, one name or credit code a line: each line that names exactly one
    registered enterprise is kept; an unknown name, an ambiguous one and a bad code are reported."""
    _check_open_for_changes(salon)
    result = PasteResult()
    lines = [line.strip() for line in re.split(r"[\r\n]+", text or "") if line.strip()]
    if not lines:
        raise SalonRefused("请粘贴企业名称或统一社会信用代码，每行一个。", "pasted")
    if len(lines) > PASTE_MAX_LINES:
        raise SalonRefused(f"一次最多粘贴{PASTE_MAX_LINES}行。", "pasted")
    for line in lines:
        enterprise, problem = _resolve_line(line)
        if problem:
            result.problems.append((line, problem))
        elif _add(salon, enterprise, ParticipantSource.pasted):
            result.added.append(enterprise)
        else:
            result.already.append(enterprise)
    if result.added:
        audit.record("salon_participants_added", salon, user=actor,
                     detail="名单导入：" + "、".join(e.name for e in result.added)[:500])
    return result


def _resolve_line(line):
    """(enterprise, None) or (None, the Chinese reason the line names no single enterprise)."""
    kind, _ = classify_query(line)
    compact = re.sub(r"[\s-]", "", line)
    if kind == "code" or (len(compact) == 18 and re.fullmatch(r"[0-9A-Za-z]{18}", compact)):
        try:
            code = normalize_credit_code(line)
        except CreditCodeError as exc:
            return None, f"统一社会信用代码有误：{exc}"
        enterprise = find_by_credit_code(code)
        return (enterprise, None) if enterprise else (None, "档案中没有该统一社会信用代码的企业。")
    matches = list(db.session.scalars(select(Enterprise).where(Enterprise.name == line).limit(2)))
    if len(matches) == 1:
        return matches[0], None
    if len(matches) > 1:
        return None, "档案中有多家同名企业，请改用统一社会信用代码。"
    return None, "档案中没有该名称的企业（须填写完整名称）。"


def remove_participant(salon, actor, enterprise_id):
    """Take an enterprise off the list (not one that has already raised an appeal at the salon)."""
    _check_open_for_changes(salon)
    row = db.session.get(SalonParticipant, (salon.id, enterprise_id))
    if row is None:
        return
    if db.session.scalar(select(Appeal.id).where(Appeal.salon_id == salon.id, Appeal.enterprise_id == enterprise_id).limit(1)):
        raise SalonRefused("该企业已在沙龙上提出诉求，不能移出名单。")
    db.session.delete(row)
    db.session.flush()
    audit.record("salon_participant_removed", salon, user=actor, detail=row.enterprise.name)


def participants(salon):
    """The salon's enterprises, in the order they were added."""
    return list(db.session.scalars(
        select(SalonParticipant).where(SalonParticipant.salon_id == salon.id)
        .order_by(SalonParticipant.added_at, SalonParticipant.enterprise_id)))


def seating(salon):
    """The seating list: [(table number, [participant, ...])], SEATS_PER_TABLE enterprises a table."""
    rows = participants(salon)
    return [(i // SEATS_PER_TABLE + 1, rows[i:i + SEATS_PER_TABLE]) for i in range(0, len(rows), SEATS_PER_TABLE)]


def find_participant(salon, text):
    """The participant an entry-mode field names (its full name, credit code, or a part naming only one),
    or None."""
    text = (text or "").strip()
    if not text:
        return None
    rows = participants(salon)
    for row in rows:
        if text in (row.enterprise.name, row.enterprise.credit_code):
            return row.enterprise
    partial = [r.enterprise for r in rows if text in r.enterprise.name]
    return partial[0] if len(partial) == 1 else None


# --------------------------------------------------------------------------- live board and summary


def appeals_of(salon):
    """The salon's appeals, oldest first (the board and the summary)."""
    return list(db.session.scalars(select(Appeal).where(Appeal.salon_id == salon.id).order_by(Appeal.id)))


def counts(appeals):
    """Raised, signed, replied, resolved and adopted among the salon's appeals."""
    return {
        "raised": len(appeals),
        "signed": sum(1 for a in appeals if a.signed_at is not None),
        "replied": sum(1 for a in appeals if a.state in ANSWERED_APPEAL_STATES),
        "resolved": sum(1 for a in appeals if a.state in ANSWERED_APPEAL_STATES and a.reply_outcome == ReplyOutcome.resolved.value),
        "adopted": sum(1 for a in appeals if a.state in ANSWERED_APPEAL_STATES and a.reply_outcome == ReplyOutcome.adopted.value),
    }


def board_stamp(salon):
    """A value that changes whenever one of the salon's appeals does (the board polls for it)."""
    row = db.session.execute(select(func.count(Appeal.id), func.max(Appeal.updated_at), func.sum(Appeal.version))
                             .where(Appeal.salon_id == salon.id)).one()
    return hashlib.sha1(f"{row[0]}|{row[1]}|{row[2]}".encode()).hexdigest()[:16]


@dataclass
class Summary:
    """What the salon came to (the printed summary)."""

    salon: Salon
    enterprises: list
    departments: list
    appeals: list
    counts: dict
    open_items: list
    by_department: list


def summary(salon):
    """The salon's summary: enterprises, departments, appeal counts and the open items with their due dates."""
    appeals = appeals_of(salon)
    open_items = [a for a in appeals if a.state.is_open and a.state not in ANSWERED_APPEAL_STATES]
    per_unit = Counter(a.lead_unit.name if a.lead_unit else "待派单" for a in appeals)
    return Summary(salon=salon, enterprises=participants(salon), departments=list(salon.departments),
                   appeals=appeals, counts=counts(appeals), open_items=open_items,
                   by_department=sorted(per_unit.items(), key=lambda kv: -kv[1]))


def year_totals(year):
    """Across the salons held in `year`: salons held, distinct enterprises that took part (on the list or
    raising an appeal), suggestions adopted, appeals resolved."""
    held = select(Salon.id).where(Salon.state.in_([SalonState.held.value, SalonState.summarised.value]),
                                  Salon.held_on >= date(year, 1, 1), Salon.held_on <= date(year, 12, 31))
    salon_ids = list(db.session.scalars(held))
    if not salon_ids:
        return {"year": year, "salons": 0, "enterprises": 0, "adopted": 0, "resolved": 0, "appeals": 0}
    enterprises = union(
        select(SalonParticipant.enterprise_id).where(SalonParticipant.salon_id.in_(salon_ids)),
        select(Appeal.enterprise_id).where(Appeal.salon_id.in_(salon_ids)),
    ).subquery()
    answered = Appeal.state.in_([s.value for s in ANSWERED_APPEAL_STATES])
    outcomes = dict(db.session.execute(
        select(Appeal.reply_outcome, func.count()).where(Appeal.salon_id.in_(salon_ids), answered)
        .group_by(Appeal.reply_outcome)).all())
    return {
        "year": year,
        "salons": len(salon_ids),
        "enterprises": db.session.scalar(select(func.count(distinct(enterprises.c[0])))),
        "adopted": outcomes.get(ReplyOutcome.adopted.value, 0),
        "resolved": outcomes.get(ReplyOutcome.resolved.value, 0),
        "appeals": db.session.scalar(select(func.count(Appeal.id)).where(Appeal.salon_id.in_(salon_ids))),
    }

