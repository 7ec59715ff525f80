"""Registry import: read the market regulator's export (CSV in UTF-8/GBK, or XLSX), check every row, upsert, report.

A file-level problem (not a spreadsheet, a required column missing) raises ImportFileError and changes
nothing. A bad row is refused and reported as (row number in the spreadsheet, column, reason); the
other rows are upserted on the credit code, so importing the same file twice changes nothing. The file
is read from disk as it goes (a full export is 124 MB): never held in memory whole. Columns the importer
does not use are named in the report.
"""
import codecs
import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import ImportJob, utcnow
from ..reference import INDUSTRY_SECTIONS
from ..registry_text import CreditCodeError, normalize_credit_code, to_half_width, validate_mobile
from .enterprises import upsert_rows
from .files import clean_filename

#: GB 32100-2015's 31 characters, in the order of their values, and the weights of positions 1–17.
_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_VALUES = {c: i for i, c in enumerate(_CODE_ALPHABET)}
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PLAIN_CODE = re.compile(r"[0-9A-HJ-NP-RTUWXY]{18}")
#: SQLite page cache of the importing connection (KiB, as a negative cache_size): the gram index of a full
#: registry is ~100 MB, and with SQLite's default 2 MB every batch rereads most of it.
SQLITE_CACHE_KIB = 131072

#: field → (column name in the report when the file has none, accepted header names).
COLUMNS = {
    "name": ("企业名称", ("企业名称", "名称", "市场主体名称", "企业(机构)名称", "单位名称", "主体名称")),
    "credit_code": ("统一社会信用代码", ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码")),
    "legal_rep": ("法定代表人", ("法定代表人", "法定代表人(负责人)", "法定代表人/负责人", "法人代表", "负责人", "经营者")),
    "address": ("住所", ("住所", "地址", "住所(经营场所)", "经营场所", "注册地址", "企业地址")),
    "industry": ("行业门类", ("行业门类", "行业", "所属行业", "国民经济行业门类", "行业分类")),
    "size": ("企业规模", ("企业规模", "规模")),
    "contact_name": ("联系人", ("联系人", "联系人姓名")),
    "contact_mobile": ("联系电话", ("联系电话", "联系人电话", "联系人手机", "手机", "手机号码", "移动电话")),
    "status": ("登记状态", ("登记状态", "经营状态", "企业状态", "企业登记状态", "状态")),
    "founded_on": ("成立日期", ("成立日期", "成立时间", "设立日期", "注册日期")),
    "business_scope": ("经营范围", ("经营范围", "经营范围及方式", "许可经营范围")),
}
REQUIRED = ("name", "credit_code")
#: Longest value each field takes (the column widths of the enterprises and contacts tables).
MAX_LENGTHS = {"name": 100, "legal_rep": 40, "address": 200, "contact_name": 40, "status": 30}
#: Rows upserted and committed together; progress moves this many rows at a time. Larger batches write
#: the gram index fewer times (10,000 wrote half the WAL of 5,000 at 220,000 rows).
BATCH_SIZE = 10000
#: A running job whose row was not touched for this long has lost its process.
STALL_AFTER = timedelta(minutes=10)
NOT_A_TABLE = "文件不是有效的CSV或XLSX表格"
#: The report's reason for a header the importer does not use.
UNUSED_COLUMN = "此列未使用：系统不保存该列的内容。"
#: Bytes read at a time when a CSV is sniffed and counted.
_CHUNK = 1 << 20
# 2015-03-12, 2015/3/12, 2015.3.12, 2015年3月12日, with an optional time (Excel dates come as datetimes).
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")

SIZE_VALUES = {
    "大型": "large", "大": "large", "中型": "medium", "中": "medium", "小型": "small", "小": "small",
    "微型": "micro", "微": "micro", "large": "large", "medium": "medium", "small": "small", "micro": "micro",
}
_SECTION_BY_TITLE = {title: letter for letter, title in INDUSTRY_SECTIONS.items()}
# "I", "I 信息传输…", "I65", "I6510" (the 行业代码 starts with its section letter).
_SECTION_LETTER = re.compile(r"([A-Ta-t])(?:$|[\d\s\-—、.:：(（]|[^\x00-\x7f])")
_HEADER_NOISE = re.compile(r"[\s*＊]+")
#: Signatures of files people upload by mistake, refused before any decoding.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\xd0\xcf\x11\xe0", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message (Chinese) says why. Nothing was changed."""


def _header_key(text):
    """A header cell compared loosely: half-width, no spaces or asterisks."""
    return _HEADER_NOISE.sub("", to_half_width(str(text or "")))


_ALIASES = {_header_key(alias): name for name, (_, aliases) in COLUMNS.items() for alias in aliases}


@dataclass
class Table:
    """A sheet read from an upload: where its header is, which column holds which field, and its rows."""

    columns: dict
    headers: dict
    total: int | None
    rows: object  # callable returning an iterator of (row number, cells)
    #: Header row number and the header cells of columns no field takes.
    header_number: int = 1
    unused: list = field(default_factory=list)
    #: Every cell is a str (a CSV): trimmed with str.strip instead of _cell_text.
    text_cells: bool = False


def read_table(source, filename=""):
    """Open an upload (a file path, or bytes) as a table of rows; raises ImportFileError for a file that is not one."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with path.open("rb") as f:
            start = f.read(65536)
        if not start:
            raise ImportFileError("文件是空的（0字节）。")
    else:
        path, start = None, source[:65536]
        if not source:
            raise ImportFileError("文件是空的（0字节）。")
    if start.startswith(b"PK\x03\x04"):
        return _read_xlsx(path if path is not None else io.BytesIO(source))
    if start.startswith(_BINARY_MAGIC) or b"\x00" in start:
        raise ImportFileError(NOT_A_TABLE + "。")
    return _read_csv_file(path) if path is not None else _read_csv(source)


def _read_xlsx(source):
    """The first worksheet of an XLSX (a path or a file object), read in openpyxl's streaming mode."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        head = list(sheet.iter_rows(min_row=1, max_row=20, values_only=True))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(NOT_A_TABLE + "（无法作为XLSX打开，文件可能已损坏或不是Excel工作簿）。") from exc
    header_number, columns, headers, unused = _find_header(head)
    max_row = sheet.max_row if isinstance(sheet.max_row, int) else None

    def rows():
        for number, cells in enumerate(sheet.iter_rows(min_row=header_number + 1, values_only=True), header_number + 1):
            yield number, cells

    return Table(columns, headers, max_row - header_number if max_row else None, rows, header_number, unused)


def _decode(data):
    """CSV text: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(NOT_A_TABLE + "（文字编码无法识别，请另存为UTF-8或GBK编码的CSV）。")


def _read_csv(data):
    """A CSV export held in memory (tests, small files); the delimiter is taken from the header line."""
    text = _decode(data)
    return _csv_table(lambda: io.StringIO(text, newline=""), text.count("\n") + 1)


def _file_encoding(path):
    """UTF-8 (with or without BOM) if the whole file decodes as it, else GB18030 (a superset of GBK);
    read a chunk at a time. Raises ImportFileError when neither fits."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(NOT_A_TABLE + "（文字编码无法识别，请另存为UTF-8或GBK编码的CSV）。")


def _line_count(path):
    """Lines in the file, counted in chunks: the progress bar's total (a quoted line break counts one more)."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _read_csv_file(path):
    """A CSV export on disk, decoded as it is read."""
    encoding = _file_encoding(path)
    return _csv_table(lambda: path.open(encoding=encoding, newline="", errors="strict"), _line_count(path))


def _csv_table(open_text, lines):
    """The table of a CSV whose text `open_text()` opens afresh each time; `lines` estimates its rows."""
    with open_text() as f:
        first_line = f.readline()
    delimiter = max(",\t;", key=first_line.count)

    def reader(f):
        return csv.reader(f, delimiter=delimiter)

    try:
        with open_text() as f:
            head = [row for _, row in zip(range(20), reader(f))]
        header_number, columns, headers, unused = _find_header(head)
    except csv.Error as exc:
        raise ImportFileError(NOT_A_TABLE + f"（CSV格式错误：{exc}）。") from exc

    def rows():
        with open_text() as f:
            yield from _csv_rows(reader(f), header_number)

    return Table(columns, headers, max(lines - header_number, 0), rows, header_number, unused, text_cells=True)


def _csv_rows(iterator, header_number):
    """(row number, cells) after the header; a broken CSV raises ImportFileError naming its line."""
    try:
        for number, cells in enumerate(iterator, 1):
            if number > header_number:
                yield number, cells
    except csv.Error as exc:
        raise ImportFileError(f"第{iterator.line_num}行CSV格式错误：{exc}") from exc


def _find_header(head):
    """(row number, field → column index, field → header text, unused header cells) of the header among
    the first rows.

    Exports sometimes put a title line above the header, so the first row naming a required column is
    taken; raises ImportFileError naming the required columns the file lacks and the headers it did not know.
    """
    best = None
    for number, cells in enumerate(head, 1):
        columns, headers, unused = {}, {}, []
        for index, cell in enumerate(cells or ()):
            name = _ALIASES.get(_header_key(cell))
            if name and name not in columns:
                columns[name] = index
                headers[name] = str(cell).strip()
            elif _cell_text(cell):
                unused.append(_cell_text(cell))
        if any(name in columns for name in REQUIRED):
            best = (number, columns, headers, unused)
            break
        if best is None and any(_cell_text(c) for c in cells or ()):
            best = (number, columns, headers, unused)
    if best is None:
        raise ImportFileError(NOT_A_TABLE + "（文件中没有任何内容）。")
    number, columns, headers, unused = best
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in columns]
    if missing:
        unknown = f"第{number}行的表头“{'、'.join(unused[:10])}”无法识别。" if unused else ""
        raise ImportFileError(
            f"文件缺少必需的列：{'、'.join(missing)}。{unknown}表头应包含“企业名称”和“统一社会信用代码”，文件未导入任何数据。"
        )
    return number, columns, headers, unused


def _cell_text(value):
    """A cell as trimmed text; Excel numbers lose their '.0' (mobiles and codes are often typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@lru_cache(maxsize=4096)
def parse_industry(text):
    """The GB/T 4754 section letter of 'I', 'I65…', 'I 信息传输…' or a section name; None if unknown."""
    text = to_half_width(text).strip()
    match = _SECTION_LETTER.match(text)
    if match and len(text) <= 60:
        return match.group(1).upper()
    text = text.removeprefix("门类").strip()
    return _SECTION_BY_TITLE.get(text)


@lru_cache(maxsize=65536)
def parse_date(text):
    """A 成立日期 as a date ('2015-03-12', '2015/3/12', '2015年3月12日', '20150312', an Excel datetime); None if not one."""
    text = to_half_width(text).strip()
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        return None
    try:
        value = date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return value if 1900 <= value.year <= 2100 else None


@lru_cache(maxsize=1024)
def parse_size(text):
    """'大型'…'微型' (or 大/中/小/微, with or without 企业) as the stored value; None if unknown."""
    text = to_half_width(text).strip().lower().removesuffix("企业")
    return SIZE_VALUES.get(text)


def _check_character(body):
    """The check character of the 17 characters `body` (ISO 7064 MOD 31-3)."""
    total = sum(_CODE_VALUES[c] * w for c, w in zip(body, _CODE_WEIGHTS))
    return _CODE_ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=8192)
def _prefix_is_valid(prefix):
    """Whether positions 1–8 (authority, type, region) are valid: asked of normalize_credit_code with a code
    made of the prefix, nine zeros and the right check character (its other rules then all hold)."""
    body = prefix + "0" * 9
    try:
        normalize_credit_code(body + _check_character(body))
    except CreditCodeError:
        return False
    return True


def credit_code(raw):
    """normalize_credit_code(raw), answered without it for a code already in normal form and valid (nearly
    every row of an export: stdnum's checks were two thirds of checking a row); raises CreditCodeError."""
    if _PLAIN_CODE.fullmatch(raw) and _check_character(raw[:17]) == raw[17] and _prefix_is_valid(raw[:8]):
        return raw
    return normalize_credit_code(raw)


class RowChecker:
    """Checks rows one by one and remembers the codes seen, so a code repeated in the file is refused."""

    def __init__(self, table):
        self.columns = table.columns
        self.headers = {name: table.headers.get(name) or label for name, (label, _) in COLUMNS.items()}
        self.first_row_of = {}
        # A row's value is cached by the parsers above: an export repeats its sections, sizes and dates.
        self.cell_text = str.strip if table.text_cells else _cell_text
        self.fields = tuple(self.columns.items())

    def check(self, number, cells):
        """(record for upsert_rows or None, [(row, column, reason), …]) for one row; blank rows give (None, [])."""
        cell_text, width = self.cell_text, len(cells)
        values = {name: cell_text(cells[i]) if i < width else "" for name, i in self.fields}
        if not any(values.values()):
            return None, []
        problems = []

        def refuse(name, reason):
            problems.append((number, self.headers[name], reason))

        record = {}
        name = values.get("name", "")
        if not name:
            refuse("name", "企业名称为空。")
        elif len(name) > MAX_LENGTHS["name"]:
            refuse("name", f"企业名称超过{MAX_LENGTHS['name']}个字（当前{len(name)}个字）。")
        record["name"] = name
        raw_code = values.get("credit_code", "")
        if not raw_code:
            refuse("credit_code", "统一社会信用代码为空。")
        else:
            try:
                record["credit_code"] = credit_code(raw_code)
            except CreditCodeError as exc:
                refuse("credit_code", str(exc))
        for field_name in ("legal_rep", "address", "contact_name", "status"):
            value = values.get(field_name, "")
            if len(value) > MAX_LENGTHS[field_name]:
                label = COLUMNS[field_name][0]
                refuse(field_name, f"{label}超过{MAX_LENGTHS[field_name]}个字（当前{len(value)}个字）。")
            record[field_name] = value or None
        if values.get("industry"):
            record["industry"] = parse_industry(values["industry"])
            if record["industry"] is None:
                refuse("industry", f"行业门类“{values['industry']}”无法识别，应为A–T的门类字母或GB/T 4754门类名称。")
        if values.get("size"):
            record["size"] = parse_size(values["size"])
            if record["size"] is None:
                refuse("size", f"企业规模“{values['size']}”无法识别，应为大型、中型、小型或微型。")
        if values.get("founded_on"):
            record["founded_on"] = parse_date(values["founded_on"])
            if record["founded_on"] is None:
                refuse("founded_on", f"成立日期“{values['founded_on']}”不是有效日期（应如2015-03-12或2015年3月12日）。")
        record["business_scope"] = values.get("business_scope") or None
        if values.get("contact_mobile"):
            try:
                record["contact_mobile"] = validate_mobile(values["contact_mobile"])
            except ValueError:
                refuse("contact_mobile", f"联系电话“{values['contact_mobile']}”不是有效的手机号码（应为11位数字，以1开头）。")
        if not problems:
            # Only a row that would be imported claims its code; a later row with the same code is refused.
            first = self.first_row_of.setdefault(record["credit_code"], number)
            if first != number:
                refuse("credit_code", f"与第{first}行的统一社会信用代码重复，本行未导入。")
        return (None if problems else record), problems


@dataclass
class ImportResult:
    """What an import did so far: counts and the refused rows' problems."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    problems: list = field(default_factory=list)
    #: Header cells of the columns the importer does not use.
    unused_columns: list = field(default_factory=list)


def import_table(table, *, batch_size=None, on_batch=None):
    """Check and upsert every row of `table`; calls on_batch(result) after each batch (the caller commits there)."""
    batch_size = batch_size or BATCH_SIZE
    checker = RowChecker(table)
    result = ImportResult(unused_columns=list(table.unused))
    batch, seen = [], 0

    def flush_batch():
        created, updated = upsert_rows(batch, batch_size=batch_size)
        result.created += created
        result.updated += updated
        result.unchanged += len(batch) - created - updated
        result.processed += seen
        batch.clear()
        if on_batch:
            on_batch(result)

    for number, cells in table.rows():
        record, problems = checker.check(number, cells)
        if record is None and not problems:
            continue
        seen += 1
        if problems:
            result.refused += 1
            result.problems.extend(problems)
        else:
            batch.append(record)
        if seen >= batch_size:
            flush_batch()
            seen = 0
    flush_batch()
    return result


def create_job(user, filename):
    """A pending import job for `user`'s upload; flushes, the caller commits before launching it."""
    # The name only (some browsers send the client's path), without control characters (NUL breaks PostgreSQL).
    job = ImportJob(user_id=user.id, filename=clean_filename(filename), status="pending")
    db.session.add(job)
    db.session.flush()
    return job


def upload_path(job, filename):
    """Where the upload of `job` is kept while it is imported: GAOXIN_DATA_DIR/imports/job-<id>.<csv|xlsx>."""
    folder = Path(current_app.config["GAOXIN_DATA_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if str(filename).lower().endswith(".xlsx") else ".csv"
    return folder / f"job-{job.id}{suffix}"


def save_upload(job, stream, filename):
    """Copy an uploaded file object to disk a megabyte at a time (never the whole file in memory); returns the path."""
    import shutil

    path = upload_path(job, filename)
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, _CHUNK)
    return path


def launch(job, path, *, ip=None, remove=False):
    """Queue the import of the file at `path` as a background job (`flask gaoxin worker` runs it; tests run it at
    once); `remove` deletes the file when the import ends. Commits. Returns the queue's Job."""
    from . import jobs

    queued, created = jobs.submit_import(job, path, job.user, ip, remove=remove)
    db.session.commit()
    if created:
        jobs.send(queued)
    return queued


def run_import(job_id, path, *, ip=None, on_progress=None):
    """Run an import job on the file at `path` (bytes are accepted too) to its end; commits after every batch so
    other requests see progress (and calls on_progress(rows, total) after it). Never raises. The queue's job
    (services.jobs) calls it.

    A file-level problem marks the job refused with nothing changed; an unexpected error marks it
    failed — the batches committed before it stay, and importing the file again completes the job.
    """
    job = db.session.get(ImportJob, job_id)
    job.status = "running"
    db.session.commit()
    try:
        table = read_table(path, job.filename)
        job.total_rows = table.total or 0
        db.session.commit()
        _widen_sqlite_cache()

        def on_batch(result):
            _copy_counts(job, result)
            db.session.commit()
            if on_progress:
                on_progress(result.processed, job.total_rows)

        result = import_table(table, on_batch=on_batch)
    except ImportFileError as exc:
        db.session.rollback()
        _finish(job_id, "refused", ip, message=str(exc))
        return
    except Exception:  # noqa: BLE001 - whatever broke, the job must not stay "running"
        db.session.rollback()
        current_app.logger.exception("Import job %s failed", job_id)
        _finish(job_id, "failed", ip, message="导入因系统错误中断。已完成的批次已保存；请重新导入同一文件（重复导入不会产生重复记录）。")
        return
    _finish(job_id, "done", ip, result=result)


def _widen_sqlite_cache():
    """On SQLite, give this connection a page cache that holds the search-gram index (see SQLITE_CACHE_KIB)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def _copy_counts(job, result):
    """Write the result's counts onto the job."""
    job.processed_rows = result.processed
    job.created_count = result.created
    job.updated_count = result.updated
    job.refused_count = result.refused


def _finish(job_id, status, ip, *, result=None, message=None):
    """Mark the job finished, keep the report and audit the import."""
    from .audit import record

    try:
        job = db.session.get(ImportJob, job_id)
        job.status = status
        job.message = message
        job.finished_at = utcnow()
        if result is not None:
            _copy_counts(job, result)
            job.total_rows = result.processed
            job.report = json.dumps(result.problems, ensure_ascii=False)
            job.unused_columns = "、".join(result.unused_columns) or None
        detail = (f"{job.filename}：新增{job.created_count}，更新{job.updated_count}，拒绝{job.refused_count}"
                  if status == "done" else f"{job.filename}：{message}")
        record("enterprises_imported", job, result="ok" if status == "done" else "failed", detail=detail,
               user=job.user, ip=ip)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database itself may be gone; the page then reports the stall
        db.session.rollback()
        current_app.logger.exception("Could not record the end of import job %s", job_id)


def expire_if_stalled(job, now=None):
    """Mark a running job failed when no batch touched it for STALL_AFTER (its process died); flushes."""
    now = now or utcnow()
    if job.is_running and job.updated_at and now - job.updated_at > STALL_AFTER:
        job.status = "failed"
        job.message = "导入进程已中断（服务器重启或进程退出）。已完成的批次已保存；请重新导入同一文件。"
        job.finished_at = now
        db.session.flush()
        return True
    return False


def job_problems(job):
    """The refused rows of a finished job as (row, column, reason) tuples."""
    return [tuple(p) for p in json.loads(job.report or "[]")]


def job_unused_columns(job):
    """The header cells of the columns a finished job did not use."""
    return job.unused_columns.split("、") if job.unused_columns else []


REPORT_HEADER = ("行号", "列", "原因")


def report_rows(problems, unused_columns=(), header_number=1):
    """The whole report: each unused column (on the header row), then every refused row's problem."""
    return [(header_number, name, UNUSED_COLUMN) for name in unused_columns] + [tuple(p) for p in problems]


def write_report_csv(rows, out):
    """The report as CSV in UTF-8 with BOM (so Excel opens the Chinese correctly) into binary file `out`."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(REPORT_HEADER)
    writer.writerows(rows)
    text.flush()
    text.detach()


def write_report_xlsx(rows, out):
    """The report as an XLSX workbook into `out` (a path or a binary file object)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"in_memory": True} if not isinstance(out, (str, os.PathLike)) else {
        "constant_memory": True})
    sheet = workbook.add_worksheet("导入报告")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, REPORT_HEADER, bold)
    for index, problem in enumerate(rows, 1):
        sheet.write_row(index, 0, problem)
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 70)
    workbook.close()


def write_report(rows, path):
    """Write the whole report to `path`, as XLSX if it ends in .xlsx, else CSV."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        write_report_xlsx(rows, str(path))
        return
    with path.open("wb") as out:
        write_report_csv(rows, out)


def _job_report_rows(job):
    return report_rows(job_problems(job), job_unused_columns(job))


def report_csv(job):
    """The job's report (unused columns and refused rows) as CSV bytes in UTF-8 with BOM."""
    out = io.BytesIO()
    write_report_csv(_job_report_rows(job), out)
    return out.getvalue()


def report_xlsx(job):
    """The job's report as XLSX bytes."""
    out = io.BytesIO()
    write_report_xlsx(_job_report_rows(job), out)
    return out.getvalue()


def recent_jobs(limit=10):
    """The latest import jobs, newest first."""
    from sqlalchemy import select

    return list(db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def job(job_id):
    """The import job with this id, or None."""
    return db.session.get(ImportJob, job_id)
