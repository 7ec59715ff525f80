"""Exports to XLSX (xlsxwriter's workbook with the rows streamed into its sheet, then streamed from a temporary
file) and CSV (UTF-8 with BOM so that Excel shows Chinese): the lists through their own list services (so an
export holds exactly what its user sees there, with the page's filters), and the dashboard's tables.

A cell that starts with = + - @ (or a tab / carriage return) is prefixed with an apostrophe so that a
spreadsheet never runs it as a formula. Raises ExportTooLarge beyond SYNC_LIMIT rows (the view then queues a
background export, services.jobs). Audits every export; never commits.
"""
import csv
import io
import os
import re
import tempfile
import zipfile
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


#: XML's special characters and the control characters XML 1.0 forbids (written as Excel's _xHHHH_ escape).
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: Rows per write to the compressed sheet.
_ROWS_PER_WRITE = 2_000


def _xml_text(value):
    return _XML_SPECIAL.sub(lambda m: _XML_ESCAPES.get(m[0]) or f"_x{ord(m[0]):04X}_", value)


def _sheet_row(number, letters, row):
    """One <row> of the sheet XML: text as in-line strings (as xlsxwriter's constant-memory mode writes them),
    numbers as numbers, empty cells left out."""
    cells = []
    for letter, value in zip(letters, row):
        value = neutralise(value)
        if type(value) is str:
            if value:
                if _XML_SPECIAL.search(value):
                    value = _xml_text(value)
                cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>')
        else:
            cells.append(f'<c r="{letter}{number}"><v>{value!r}</v></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def write_xlsx(table, path):
    """Write the table to an XLSX file at `path`, the rows streamed to disk as they come (memory stays flat).

    xlsxwriter makes the workbook (parts, styles, the bold header, column widths); the data rows are then
    written into its sheet's <sheetData> as the same in-line-string XML its constant-memory mode writes, without
    its per-cell bookkeeping (four-fifths of the time for 100,000 rows) and compressed as they go."""
    skeleton = io.BytesIO()
    workbook = xlsxwriter.Workbook(skeleton, {"strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False})
    sheet = workbook.add_worksheet(table.title[:31])
    sheet.write_row(0, 0, [neutralise(h) for h in table.headers], workbook.add_format({"bold": True}))
    sheet.set_column(0, max(len(table.headers) - 1, 0), 18)
    workbook.close()
    letters = [xlsxwriter.utility.xl_col_to_name(i) for i in range(max(len(table.headers), 1))]
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                              compresslevel=1) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, data)
                continue
            # The header's <sheetData> ends where the rows go; the <dimension> of the header alone is dropped
            # (it is optional, and the number of rows is not known until the last one is written).
            head, tail = re.sub(rb"<dimension [^>]*/>", b"", data).split(b"</sheetData>", 1)
            with target.open(item.filename, "w", force_zip64=True) as out:
                out.write(head)
                batch = []
                for number, row in enumerate(table.rows, 2):
                    batch.append(_sheet_row(number, letters, row))
                    if len(batch) >= _ROWS_PER_WRITE:
                        out.write("".join(batch).encode("utf-8"))
                        batch = []
                out.write("".join(batch).encode("utf-8"))
                out.write(b"</sheetData>" + tail)


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

