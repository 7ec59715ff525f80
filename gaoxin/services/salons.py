"""Salons (高新沙龙): the quick record that appeals are tagged with, and the list the intake form offers."""
from sqlalchemy import select

from ..extensions import db
from ..models import Salon


def create(actor, *, theme, held_on, venue=None):
    """Record a salon (theme, date, venue) so that appeals raised at it can be tagged with it."""
    salon = Salon(theme=theme.strip(), held_on=held_on, venue=venue, created_by_id=actor.id)
    db.session.add(salon)
    db.session.flush()
    return salon


def recent(limit=30):
    """The latest salons, newest first, for the intake form's select."""
    return list(db.session.scalars(select(Salon).order_by(Salon.held_on.desc(), Salon.id.desc()).limit(limit)))


def get(salon_id):
    """The salon with this id, or None."""
    return db.session.get(Salon, salon_id) if salon_id else None
