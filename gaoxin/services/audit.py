"""Writing, sealing, checking and archiving the audit log: every security-relevant action goes through record().

The chain (tamper evidence, issue 8)
------------------------------------
Every entry carries `seq` (1, 2, …), `prev_hash` and `hash` = HMAC-SHA256(GAOXIN_AUDIT_KEY, prev_hash and
the entry's fields). Someone who can write to the database but does not hold the key cannot edit, delete
or insert an entry without breaking a link that `flask gaoxin audit-verify` then names.

Sealing happens in the writing transaction, at its commit. record() only adds the row; the session's
`before_commit` hook flushes, locks the one-row chain head (`audit_chain`, id 1) with SELECT … FOR UPDATE,
numbers this transaction's new entries in id order after the head, hashes them, moves the head and lets
the commit write it all. So:

* No fork: two transactions can never chain onto the same previous hash, because the second waits for the
  head row until the first commits and then reads the head the first one wrote (PostgreSQL, READ
  COMMITTED re-reads the locked row; SQLite allows one writer at a time anyway, and a transaction that
  inserted an audit row already holds that write lock). It works the same with any number of gunicorn
  workers or machines: the lock lives in the database.
* No window: a committed entry is always sealed. An entry with no `seq` was therefore not written by this
  application (a forged row) and the check reports it; nothing ever "seals whatever is lying around".
* Short serialisation: only transactions that wrote an audit entry take the lock, and only from their last
  flush to their COMMIT: everything else was flushed before, so the lock holder never waits for another
  lock (no deadlock). The price, measured on PostgreSQL on the 2-core development machine with one bare
  audited insert per transaction (the worst case): 1 thread 160 instead of 360 commits/s (three more round
  trips), 8 threads 125 instead of 355 commits/s: audited commits queue at about one per lock-to-COMMIT
  time. A log-in (scrypt) or an admin change costs far more than that, and staff produce a few per second.
* A rolled-back transaction takes its entries and its head move with it: no gaps.

The head row also carries HMACs over (seq, hash) and over the archive anchor, so the newest rows cannot be
cut off by rewinding the head and the oldest cannot be cut off by moving the anchor. A database writer
can still put back an older copy of the whole table and head (from a backup): ship the head hash that
audit-verify prints to an outside log to catch that.

The ORM refuses to update or delete entries (models/audit.py); the only delete is archive(), which writes
the oldest entries (at least six months old, Cybersecurity Law Art. 21) to a JSON-lines file with their
hashes, between two authenticated anchors, moves the table's anchor to the last archived entry and then
deletes them, so the remaining chain still verifies, and so does the file.
"""
import hashlib
import hmac
import json
import os
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import DateTime, Interval, delete, event, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from ..database import dialect_insert
from ..extensions import db
from ..localtime import local_midnight, local_time, local_today
from ..models import AuditEntry
from ..models.audit import ARCHIVE_OPTION, GENESIS_HASH, AuditChain
from ..models.base import utcnow

#: Cybersecurity Law Art. 21(3): network logs are kept for no less than six months. Entries younger than
#: six calendar months (and never fewer than 180 days) cannot be archived out of the table.
RETENTION_MONTHS = 6
RETENTION_DAYS = 180

#: A user with this many refusals within DENIAL_WINDOW is flagged on the auditor's page (越权尝试).
DENIAL_BURST = 20
DENIAL_WINDOW = timedelta(minutes=10)

#: The entry fields the hash covers, in this order.
HASHED_FIELDS = ("seq", "id", "at", "user_id", "username", "ip", "action", "object_type", "object_id",
                 "result", "detail")
#: What an archive file holds for each entry.
ARCHIVED_FIELDS = HASHED_FIELDS + ("prev_hash", "hash")

_UNSEALED = "gaoxin_audit_unsealed"
_TABLE = AuditEntry.__table__
#: The columns a check reads; `at` as the naive UTC value stored (the hash's form, no time-zone round trip).
_ARCHIVED_COLUMNS = tuple(type_coerce(_TABLE.c.at, DateTime()).label("at") if name == "at" else _TABLE.c[name]
                          for name in ARCHIVED_FIELDS)


def client_ip():
    """The client's address (ProxyFix has already applied the trusted X-Forwarded-For)."""
    return request.remote_addr if has_request_context() else None


def record(action, obj=None, *, result="ok", detail=None, user=None, username=None, object_type=None,
           object_id=None, ip=None):
    """Add an audit entry for `action` on `obj` by `user` (default: the current user); sealed at commit.

    `object_type` / `object_id` name the object when none is loaded (a refused id that was never read);
    `ip` is for work done outside the request that asked for it (a background import)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if obj is not None:
        object_type = type(obj).__name__
        object_id = getattr(obj, "id", None)
    if getattr(user, "is_enterprise", False):
        # An enterprise account is no staff user: its name ("企业:<login>") marks it, and user_id stays empty.
        username, user = username or user.username, None
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        username=username or (user.username if user is not None else None),
        ip=ip or client_ip(),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        result=result,
        detail=detail,
    )
    db.session.add(entry)
    return entry


# --- hashing ---------------------------------------------------------------------------------------------

def audit_key():
    """GAOXIN_AUDIT_KEY as bytes, or HMAC(SECRET_KEY, "audit") when it is not set."""
    key = current_app.config.get("GAOXIN_AUDIT_KEY")
    if key:
        return key.encode()
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"audit", hashlib.sha256).digest()


def _timestamp(value):
    """`at` as the archive and the hash write it: naive UTC to the microsecond (what UTCDateTime stores)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _text(value):
    return None if value is None else str(value)


def _canonical(values):
    """The hashed fields of an entry (a mapping) as stable JSON: the same from a new object, a row or a file."""
    user_id = values["user_id"]
    return _JSON.encode([
        int(values["seq"]), int(values["id"]), _timestamp(values["at"]),
        None if user_id is None else int(user_id), _text(values["username"]), _text(values["ip"]),
        _text(values["action"]), _text(values["object_type"]), _text(values["object_id"]),
        _text(values["result"]), _text(values["detail"]),
    ])


def _mac(key, kind, *parts):
    message = "\n".join([kind, *("" if p is None else str(p) for p in parts)])
    return hmac.digest(key, message.encode(), "sha256").hex()


def entry_hash(key, prev_hash, values):
    """The hash of one entry (a mapping of HASHED_FIELDS) chained onto `prev_hash`."""
    return _mac(key, "entry", prev_hash, _canonical(values))


def _point_is_authentic(key, kind, seq, hash_, mac):
    """A (seq, hash) pair carries a valid MAC, or is the genesis (which needs none)."""
    if seq == 0 and hash_ == GENESIS_HASH:
        return True
    return bool(mac) and hmac.compare_digest(mac, _mac(key, kind, seq, hash_))


# --- sealing at commit -----------------------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _remember_new_entries(session, flush_context):
    entries = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if entries:
        session.info.setdefault(_UNSEALED, []).extend(entries)


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session):
    if any(isinstance(obj, AuditEntry) for obj in session.new):
        session.flush()
    entries = [e for e in session.info.pop(_UNSEALED, ()) if db.inspect(e).persistent and e.seq is None]
    if entries:
        _seal(session, sorted(entries, key=lambda e: e.id))


@event.listens_for(Session, "after_rollback")
def _forget_new_entries(session):
    session.info.pop(_UNSEALED, None)


def _locked_head(session):
    """The chain head, locked for this transaction (created, from the newest sealed row, if missing), and the
    highest seq in the table (read in the same round trip: the lock is held until COMMIT, keep it short)."""
    query = (select(AuditChain, select(func.max(_TABLE.c.seq)).scalar_subquery())
             .where(AuditChain.id == 1).with_for_update(of=AuditChain)
             .execution_options(populate_existing=True))
    found = session.execute(query).first()
    if found is None:
        _create_head(session)
        found = session.execute(query).one()
    return found


def _create_head(session):
    """Insert the head row if no one has (the migration creates it; tests truncate it away)."""
    last = session.execute(select(_TABLE.c.seq, _TABLE.c.hash).where(_TABLE.c.seq.isnot(None))
                           .order_by(_TABLE.c.seq.desc()).limit(1)).first()
    # A head rebuilt over existing rows carries no MAC: the check keeps reporting that it went missing.
    values = {"id": 1, "seq": last.seq if last else 0, "hash": last.hash if last else GENESIS_HASH, "mac": "",
              "anchor_seq": 0, "anchor_hash": GENESIS_HASH, "anchor_mac": ""}
    insert = dialect_insert(session.get_bind().dialect.name)
    session.execute(insert(AuditChain.__table__).values(**values).on_conflict_do_nothing())


def _seal(session, entries):
    """Chain `entries` (flushed, in id order) onto the locked head and move the head."""
    key = audit_key()
    head, top = _locked_head(session)
    authentic = _point_is_authentic(key, "head", head.seq, head.hash, head.mac)
    # Numbered after any row someone slipped in past the head (a forged row would otherwise take the next
    # seq and make every audited commit fail); the check names that row, our entries chain on the head.
    seq, prev = max(head.seq, top or 0), head.hash
    for entry in entries:
        seq += 1
        entry.__dict__["_gaoxin_sealing"] = True
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = entry_hash(key, prev, {name: getattr(entry, name) for name in HASHED_FIELDS})
    head.seq, head.hash = seq, prev
    # A head that was tampered with stays unauthenticated: re-signing it would launder the tampering.
    head.mac = _mac(key, "head", seq, prev) if authentic else ""


# --- checking --------------------------------------------------------------------------------------------

@dataclass
class ChainCheck:
    """What a check of the chain (the table or an archive file) found."""

    #: Problems kept word for word (a table checked with the wrong key would otherwise list every row).
    KEPT = 100

    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    problems: list = field(default_factory=list)
    problem_count: int = 0

    def add(self, problem):
        self.problem_count += 1
        if len(self.problems) < self.KEPT:
            self.problems.append(problem)

    @property
    def ok(self):
        return not self.problem_count

    @property
    def summary(self):
        """One line in Chinese: intact with the range, or the first broken link and how many there are."""
        if self.ok:
            if not self.count:
                return "审计链完整：没有需要校验的记录。"
            return (f"审计链完整：共 {self.count} 条记录（序号 {self.first_seq}–{self.last_seq}），"
                    f"末条哈希 {self.last_hash}。")
        more = f"（共发现 {self.problem_count} 处问题）" if self.problem_count > 1 else ""
        return f"审计链不完整：{self.problems[0]}{more}"


class _Walk:
    """Walks entries in seq order from a starting point and notes every broken link."""

    def __init__(self, key, seq, hash_, check):
        self.key, self.expected, self.prev, self.check = key, seq + 1, hash_, check

    def step(self, values):
        seq, digest, check = values["seq"], values["hash"], self.check
        if seq != self.expected or values["prev_hash"] != self.prev:
            if seq > self.expected:
                self._problem(values, f"之前缺少序号 {_seq_range(self.expected, seq - 1)} 的记录（被删除）。")
            elif seq < self.expected:
                self._problem(values, "的序号重复或顺序错乱。")
            else:
                self._problem(values, "与前一条记录不衔接（前序哈希不符）。")
        if entry_hash(self.key, values["prev_hash"] or "", values) != digest:
            self._problem(values, "的内容与哈希不符（被修改或伪造）。")
        if check.first_seq is None:
            check.first_seq = seq
        check.count += 1
        check.last_seq = seq
        check.last_hash = self.prev = digest
        self.expected = seq + 1

    def _problem(self, values, what):
        self.check.add(f"记录 #{values['id']}（序号 {values['seq']}，{_shown_time(values['at'])}）{what}")


def _seq_range(first, last):
    return str(first) if first == last else f"{first}–{last}"


def _shown_time(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return local_time(value, "%Y-%m-%d %H:%M:%S")


def verify_chain():
    """Check every entry in the table against the chain, the anchor and the head; returns a ChainCheck."""
    key, check = audit_key(), ChainCheck()
    with db.engine.connect() as conn:
        head = conn.execute(select(AuditChain.__table__).where(AuditChain.id == 1)).first()
        if head is None:
            if conn.scalar(select(_TABLE.c.id).limit(1)) is not None:
                check.add("链头记录缺失（audit_chain 被删除）。")
            return check
        if not _point_is_authentic(key, "anchor", head.anchor_seq, head.anchor_hash, head.anchor_mac):
            check.add("归档锚点被改动（校验码不符）。")
        walk, hash_at_head = _Walk(key, head.anchor_seq, head.anchor_hash, check), None
        # Rows at or below the anchor are archived and wait for deletion (an interrupted archive run).
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
            select(*_ARCHIVED_COLUMNS)
            .where(_TABLE.c.seq > head.anchor_seq).order_by(_TABLE.c.seq))
        for row in rows:
            walk.step(row._mapping)
            if row.seq == head.seq:
                hash_at_head = row.hash
        # Entries sealed after the head was read are checked too; the ones up to it must all be there.
        if head.seq > head.anchor_seq and (check.last_seq or 0) < head.seq:
            missing = _seq_range((check.last_seq or head.anchor_seq) + 1, head.seq)
            check.add(f"序号 {missing} 的记录缺失（最新的记录被删除）。")
        elif head.seq > head.anchor_seq and hash_at_head != head.hash:
            check.add(f"序号 {head.seq} 的记录与链头不符。")
        if not _point_is_authentic(key, "head", head.seq, head.hash, head.mac):
            check.add("链头被改动（校验码不符）。")
        for row in conn.execute(select(_TABLE.c.id, _TABLE.c.at).where(_TABLE.c.seq.is_(None))
                                .order_by(_TABLE.c.id).limit(100)):
            check.add(f"记录 #{row.id}（{_shown_time(row.at)}）未封存，不是经本系统写入的（伪造）。")
    return check


def verify_archive(path):
    """Check an archive file written by archive(): its two anchors and every entry between them."""
    key, check = audit_key(), ChainCheck()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        check.add(f"无法读取归档文件：{exc}")
        return check
    if len(records) < 2 or records[0].get("type") != "start" or records[-1].get("type") != "end":
        check.add("归档文件不完整：缺少开头或结尾的锚点。")
        return check
    start, end = records[0], records[-1]
    if not _point_is_authentic(key, "anchor", start.get("seq"), start.get("hash"), start.get("mac")):
        check.add("归档文件开头的锚点被改动（校验码不符）。")
    walk = _Walk(key, start.get("seq", 0), start.get("hash"), check)
    for values in records[1:-1]:
        try:
            walk.step(values)
        except (KeyError, TypeError, ValueError):
            check.add(f"第 {check.count + 2} 行不是有效的审计记录。")
            check.count += 1
    if not _point_is_authentic(key, "anchor", end.get("seq"), end.get("hash"), end.get("mac")):
        check.add("归档文件结尾的锚点被改动（校验码不符）。")
    elif (end.get("seq"), end.get("hash")) != (check.last_seq, check.last_hash) or end.get("count") != check.count:
        check.add(f"归档文件结尾的锚点（序号 {end.get('seq')}）与最后一条记录不符（记录被删除或追加）。")
    return check


@dataclass
class ChainStatus:
    """The last full check as the auditor's page shows it."""

    state: str  # "intact", "broken" or "unchecked"
    checked_at: datetime | None = None
    count: int | None = None
    message: str = ""


def _status_mac(key, head):
    return _mac(key, "verified", _timestamp(head.verified_at), head.verified_ok, head.verified_count,
                head.verified_message)


def save_check(check, *, username=None):
    """Keep the result of a full check on the head (authenticated) and audit it; flushes, never commits."""
    head, _ = _locked_head(db.session)
    head.verified_at = utcnow().replace(microsecond=0)
    head.verified_ok, head.verified_count, head.verified_message = check.ok, check.count, check.summary
    head.verified_mac = _status_mac(audit_key(), head)
    record("audit_verified", result="ok" if check.ok else "failed", detail=check.summary, username=username)
    db.session.flush()


def chain_status():
    """The last full check, unless its record was tampered with (then the chain counts as broken)."""
    head = db.session.get(AuditChain, 1)
    if head is None or head.verified_at is None:
        return ChainStatus("unchecked")
    if not hmac.compare_digest(head.verified_mac or "", _status_mac(audit_key(), head)):
        return ChainStatus("broken", head.verified_at, None, "校验结果记录被改动（校验码不符），请重新校验。")
    return ChainStatus("intact" if head.verified_ok else "broken", head.verified_at, head.verified_count,
                       head.verified_message or "")


# --- archiving -------------------------------------------------------------------------------------------

class AuditArchiveError(Exception):
    """The archive was refused (too young, file exists, chain broken); the message is for the operator."""


def retention_limit(today=None):
    """The latest `--before` date allowed: six calendar months (and at least 180 days) before today."""
    today = today or local_today()
    year, month = (today.year, today.month - RETENTION_MONTHS) if today.month > RETENTION_MONTHS else (
        today.year - 1, today.month - RETENTION_MONTHS + 12)
    months_back = date(year, month, min(today.day, monthrange(year, month)[1]))
    return min(months_back, today - timedelta(days=RETENTION_DAYS))


@dataclass
class ArchiveResult:
    """What archive() moved out: how many entries, their seq range and the last hash (the new anchor)."""

    count: int
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None


def archive(before, path, *, batch=10000):
    """Move entries older than `before` (a China date) to `path` as JSON lines, then out of the table.

    Raises AuditArchiveError. The remaining chain starts at the new anchor (the last archived entry)."""
    limit = retention_limit()
    if before > limit:
        raise AuditArchiveError(f"日志须至少保存六个月（《网络安全法》第二十一条）：--before 不能晚于 {limit:%Y-%m-%d}。")
    path = Path(path)
    if path.exists():
        raise AuditArchiveError(f"文件已存在：{path}（归档不覆盖已有文件）。")
    check = verify_chain()
    if not check.ok:
        raise AuditArchiveError(f"{check.summary} 请先调查，链不完整时不能归档。")
    key = audit_key()
    with db.engine.connect() as conn:
        head = conn.execute(select(AuditChain.__table__).where(AuditChain.id == 1)).first()
        if head is None:
            return ArchiveResult(0)
        # The archive is a prefix of the chain: up to the entry before the first one that is not old enough.
        first_young = conn.scalar(select(func.min(_TABLE.c.seq)).where(_TABLE.c.at >= local_midnight(before)))
        last = head.seq if first_young is None else min(head.seq, first_young - 1)
        if last <= head.anchor_seq:
            return ArchiveResult(0)
        result = _write_archive(conn, key, head, last, path)
    if not verify_archive(path).ok:
        path.unlink()
        raise AuditArchiveError("归档文件写入后校验未通过，已删除该文件，表中记录未改动。")
    head, _ = _locked_head(db.session)
    if head.anchor_seq != result.first_seq - 1:
        db.session.rollback()
        raise AuditArchiveError("另一个归档命令正在运行或刚刚完成，本次未删除任何记录。")
    head.anchor_seq, head.anchor_hash = result.last_seq, result.last_hash
    head.anchor_mac = _mac(key, "anchor", result.last_seq, result.last_hash)
    record("audit_archived", detail=f"序号 {result.first_seq}–{result.last_seq}，共 {result.count} 条，"
                                    f"{before:%Y-%m-%d} 以前，归档至 {path.name}", username="cli")
    db.session.commit()
    # The anchor has moved: the rows below it are out of the chain and leave the table in batches (with any
    # that an interrupted earlier run left behind).
    lowest = db.session.scalar(select(func.min(_TABLE.c.seq))) or result.first_seq
    for low in range(lowest, result.last_seq + 1, batch):
        db.session.execute(
            delete(AuditEntry).where(AuditEntry.seq >= low, AuditEntry.seq < min(low + batch, result.last_seq + 1)),
            execution_options={ARCHIVE_OPTION: True, "synchronize_session": False})
        db.session.commit()
    return result


def _write_archive(conn, key, head, last, path):
    """Write entries (anchor, last] between two authenticated anchors to a temporary file, then rename it."""
    check = ChainCheck()
    walk = _Walk(key, head.anchor_seq, head.anchor_hash, check)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "start", "seq": head.anchor_seq, "hash": head.anchor_hash,
                              "mac": head.anchor_mac}) + "\n")
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
            select(*_ARCHIVED_COLUMNS)
            .where(_TABLE.c.seq > head.anchor_seq, _TABLE.c.seq <= last).order_by(_TABLE.c.seq))
        for row in rows:
            values = {name: row._mapping[name] for name in ARCHIVED_FIELDS}
            walk.step(values)
            values["at"] = _timestamp(values["at"])
            out.write(json.dumps({"type": "entry", **values}, ensure_ascii=False) + "\n")
        if not check.ok or check.last_seq != last:
            partial.unlink()
            raise AuditArchiveError(check.summary if not check.ok else "待归档的记录不连续，未归档。")
        out.write(json.dumps({"type": "end", "seq": check.last_seq, "hash": check.last_hash, "count": check.count,
                              "mac": _mac(key, "anchor", check.last_seq, check.last_hash)}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    partial.rename(path)
    return ArchiveResult(check.count, check.first_seq, check.last_seq, check.last_hash)


# --- the auditor's questions -----------------------------------------------------------------------------

@dataclass
class DenialBurst:
    """A user refused at least DENIAL_BURST times within DENIAL_WINDOW."""

    user_id: int
    username: str
    denials: int
    first_burst_at: datetime


def denial_bursts(start, end, username_pattern=None):
    """Users with ≥ DENIAL_BURST refusals within any DENIAL_WINDOW in [start, end), earliest first.

    One query over the (action, at) index: the n-th previous refusal of the same user (a window function)
    lies within the window exactly when that user had n + 1 refusals within it."""
    where = [AuditEntry.action == "access_denied"]
    if start is not None:
        where.append(AuditEntry.at >= start)
    if end is not None:
        where.append(AuditEntry.at < end)
    if username_pattern:
        where.append(func.lower(AuditEntry.username).like(username_pattern, escape="\\"))
    by_user = {"partition_by": AuditEntry.user_id}
    ranked = select(
        AuditEntry.user_id, AuditEntry.username, AuditEntry.at,
        func.lag(AuditEntry.at, DENIAL_BURST - 1).over(order_by=AuditEntry.at, **by_user).label("earlier"),
        func.count().over(**by_user).label("denials"),
    ).where(*where).subquery()
    if db.session.get_bind().dialect.name == "sqlite":
        span = (func.julianday(ranked.c.at) - func.julianday(ranked.c.earlier)) * 86400
        within = span <= DENIAL_WINDOW.total_seconds()
    else:
        within = ranked.c.at - ranked.c.earlier <= literal(DENIAL_WINDOW, Interval)
    query = (select(ranked.c.user_id, func.max(ranked.c.username), func.max(ranked.c.denials), func.min(ranked.c.at))
             .where(ranked.c.user_id.isnot(None), ranked.c.earlier.isnot(None), within)
             .group_by(ranked.c.user_id).order_by(func.min(ranked.c.at)))
    return [DenialBurst(*row) for row in db.session.execute(query)]


def entries_query(action=None, result=None, username=None, date_from=None, date_to=None,
                  object_type=None, object_id=None):
    """The filtered entries, newest first; ordered on `at` so the (action, at) and (at) indexes serve it."""
    from .admin import contains_pattern  # services.admin records through this module

    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if result:
        query = query.where(AuditEntry.result == result)
    if username:
        query = query.where(func.lower(AuditEntry.username).like(contains_pattern(username), escape="\\"))
    if date_from:
        query = query.where(AuditEntry.at >= local_midnight(date_from))
    if date_to:
        query = query.where(AuditEntry.at < local_midnight(date_to + timedelta(days=1)))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    # Only `at`: a tie-breaker column would make PostgreSQL sort what the index already returns in order.
    return query.order_by(AuditEntry.at.desc())
