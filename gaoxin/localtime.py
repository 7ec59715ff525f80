"""China time: timestamps are stored in UTC and read, typed and counted in China Standard Time."""
from datetime import datetime, time, timedelta, timezone

#: China Standard Time (UTC+8, no daylight saving); staff read every timestamp in it.
CST = timezone(timedelta(hours=8))


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    """A UTC timestamp (naive means UTC) formatted in China time; an empty string for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CST).strftime(fmt)


def local_today():
    """Today's date in China (deadlines are counted on China's calendar, not UTC)."""
    return datetime.now(CST).date()


def local_midnight(day):
    """00:00 China time on `day`, as an aware datetime: the dates staff type are China dates."""
    return datetime.combine(day, time.min, tzinfo=CST)
