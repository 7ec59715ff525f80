"""Canned replies (常用语): a department's phrases, kept by its lead and inserted by its staff into replies
and notes. Operations flush, never commit; a bad phrase raises InputError beside the field."""
from sqlalchemy import select

from ..extensions import db
from ..models import Phrase
from .cases import InputError

#: A department keeps at most this many phrases (a pick list, not a library).
PHRASES_MAX = 100


def of_unit(unit_id):
    """The unit's phrases in the lead's order."""
    return list(db.session.scalars(select(Phrase).where(Phrase.unit_id == unit_id)
                                   .order_by(Phrase.position, Phrase.id)))


def get(unit_id, phrase_id):
    """The unit's phrase with this id, or None (another unit's phrase is none of its business)."""
    if not phrase_id:
        return None
    return db.session.scalar(select(Phrase).where(Phrase.id == phrase_id, Phrase.unit_id == unit_id))


def _clean(text):
    text = (text or "").strip()
    if not text:
        raise InputError("请填写常用语内容。", field="text")
    return text


def add(actor, *, text, position=0):
    """A new phrase for the actor's department."""
    text = _clean(text)
    existing = of_unit(actor.unit_id)
    if len(existing) >= PHRASES_MAX:
        raise InputError(f"每个部门最多保存{PHRASES_MAX}条常用语，请先删除不再使用的。", field="text")
    if any(p.text == text for p in existing):
        raise InputError("本部门已有相同的常用语。", field="text")
    phrase = Phrase(unit_id=actor.unit_id, text=text, position=position or 0, created_by_id=actor.id)
    db.session.add(phrase)
    db.session.flush()
    return phrase


def update(phrase, *, text, position=0):
    """Change a phrase's text or position; returns whether anything changed."""
    text = _clean(text)
    if any(p.text == text and p.id != phrase.id for p in of_unit(phrase.unit_id)):
        raise InputError("本部门已有相同的常用语。", field="text")
    changed = (phrase.text, phrase.position) != (text, position or 0)
    phrase.text, phrase.position = text, position or 0
    db.session.flush()
    return changed


def delete(phrase):
    """Remove a phrase; texts it was inserted into stay as they are."""
    db.session.delete(phrase)
    db.session.flush()


def insert(typed, phrase):
    """The typed text with the phrase added at its end, on a line of its own when there is text already."""
    typed = (typed or "").rstrip()
    return f"{typed}\n{phrase.text}" if typed else phrase.text
