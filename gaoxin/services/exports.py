"""Exports to XLSX (xlsxwriter, constant-memory mode, streamed from a temporary file) and CSV (UTF-8 with BOM so
that Excel shows Chinese): the lists through their own list services (so an export holds exactly what its user
sees there, with the page's filters), and the dashboard's tables.

A cell that starts with = + - @ (or a tab / carriage return) is prefixed with an apostrophe so that a
spreadsheet never runs it as a formula. Raises ExportTooLarge beyond SYNC_LIMIT rows (the view then queues a
background export, services.jobs). Audits every export; never commits.
"""
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import xlsxwriter

from ..localtime import CST
from . import audit

#: The most rows an export writes inside the request.
SYNC_LIMIT = 10_000
#: Characters that make a spreadsheet read a cell as a formula (CWE-1236), plus tab and carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Bytes per chunk streamed to the browser.
CHUNK = 64 * 1024


class ExportTooLarge(Exception):
    """More rows than an export writes inside the request."""

    def __init__(self, limit=SYNC_LIMIT):
        super().__init__(f"导出超过{limit:,}行，请缩小筛选范围后分批导出（大批量后台导出尚未开放）。")


@dataclass
class Table:
    """What an export writes: a sheet title, the column headers and the rows (lists of cell values)."""

    title: str
    headers: list
    rows: list


def neutralise(value):
    """A cell value safe for a spreadsheet: text starting like a formula gets a leading apostrophe; dates,
    timestamps (in China time) and amounts become what the page shows; numbers stay numbers."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if kind is bool:
        return "是" if value else "否"
    if kind is int or kind is float:
        return value
    if kind is Decimal:
        return float(value)
    if kind is datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(CST).isoformat(sep=" ", timespec="minutes")[:16]
    if kind is date:
        return value.isoformat()
    return neutralise(str(value))


def rows_from_pages(fetch, shape, limit=SYNC_LIMIT):
    """Every row of a list, read through its own page function `fetch(page) -> (items, has_next)` and shaped
    by `shape(item) -> [cells]`; ExportTooLarge past `limit` rows."""
    rows, page = [], 1
    while True:
        items, has_next = fetch(page)
        rows.extend(shape(item) for item in items)
        if len(rows) > limit:
            raise ExportTooLarge(limit)
        if not has_next:
            return rows
        page += 1


def record(user, name, table, fmt, filters=None):
    """Audit one export: which list, the filters, the format and the number of rows."""
    described = "；".join(f"{k}={v}" for k, v in (filters or {}).items() if v not in (None, ""))
    audit.record("data_exported", user=user, object_type="Export", object_id=name,
                 detail=f"{table.title}，{fmt.upper()}，{len(table.rows)}行" + (f"；筛选：{described}" if described else ""))


def csv_chunks(table):
    """The table as CSV (UTF-8 with BOM), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([neutralise(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([neutralise(v) for v in row])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(table, path):
    """Write the table to an XLSX file at `path` in constant-memory mode (rows go to disk as written)."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "tmpdir": os.path.dirname(path)})
    sheet = workbook.add_worksheet(table.title[:31])
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, [neutralise(h) for h in table.headers], bold)
    # write_string / write_number directly: write_row's type dispatch per cell costs a fifth of the time.
    write_string, write_number = sheet.write_string, sheet.write_number
    for index, row in enumerate(table.rows, 1):
        for column, value in enumerate(row):
            value = neutralise(value)
            if type(value) is str:
                if value:
                    write_string(index, column, value)
            else:
                write_number(index, column, value)
    sheet.set_column(0, max(len(table.headers) - 1, 0), 18)
    workbook.close()


def xlsx_chunks(table):
    """The table as an XLSX file streamed in chunks; the temporary file is gone when the stream ends."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(table, path)
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def chunks(table, fmt):
    """The file's bytes, in chunks, for `fmt` ('xlsx' or 'csv')."""
    return xlsx_chunks(table) if fmt == "xlsx" else csv_chunks(table)

