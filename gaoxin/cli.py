"""`flask gaoxin …` commands: demo data, the first administrators, registry import, audit chain check and archive,
backup and restore, the background-job worker, the dashboard rollup's rebuild."""
import secrets
import string
import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import Role, Unit, UnitKind, User

gaoxin_cli = AppGroup("gaoxin", help="高新通 management commands.")


@gaoxin_cli.command("demo")
@click.option("--enterprises", "enterprise_count", default=2000, show_default=True, help="Registry size.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_command(enterprise_count, if_empty):
    """Load demo units, one user per role and a registry of enterprises; print the logins."""
    from .services import demo

    if not demo.is_empty():
        if if_empty:
            click.echo("数据库已有数据，跳过演示数据。")
            print_demo_logins()
            return
        raise click.ClickException("数据库不是空的：演示数据只能装入空数据库。")
    started = time.perf_counter()
    demo.create_units()
    demo.create_users()
    db.session.commit()
    from .services.enterprises import load_demo_enterprises

    count = load_demo_enterprises(enterprise_count)
    policies = getattr(demo, "create_demo_policies", None)
    if policies:
        policies()
    extra = getattr(demo, "create_demo_cases", None)
    if extra:
        extra()
    demo.create_demo_daily_work()
    demo.create_demo_enterprise_account()
    db.session.commit()
    click.echo(f"演示数据已装入：{count} 家企业，用时 {time.perf_counter() - started:.1f} 秒。")
    print_demo_logins()


def print_demo_logins():
    from .services import demo
    from .services.demo import DEMO_PASSWORD, DEMO_USERS

    click.echo("\n演示账号（密码均为 %s）：" % DEMO_PASSWORD)
    for username, name, unit_name, roles in DEMO_USERS:
        click.echo(f"  {username:<14} {'、'.join(r.title for r in roles)} · {unit_name} · {name}")
    enterprise = demo.demo_enterprise_login()
    if enterprise:
        login, enterprise_name, contact_name = enterprise
        click.echo(f"  {login:<14} 企业账号，在 /e/login 登录 · {enterprise_name} · {contact_name}")


def _initial_password():
    # Meets the policy (upper, lower, digit, symbol) and is changed at first log-in.
    alphabet = string.ascii_letters + string.digits
    return "Gx-" + "".join(secrets.choice(alphabet) for _ in range(12)) + "7a"


@gaoxin_cli.command("create-admins")
@click.option("--unit", "unit_name", default="企业服务中心", show_default=True)
def create_admins_command(unit_name):
    """Create the three separated administrators (系统/安全/审计) on an empty production database."""
    if db.session.scalar(select(User).limit(1)) is not None:
        raise click.ClickException("已有用户：请由系统管理员在页面上创建账号。")
    unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
    if unit is None:
        unit = Unit(name=unit_name, kind=UnitKind.dispatch_centre)
        db.session.add(unit)
    click.echo("初始管理员（首次登录须修改密码）：")
    for username, name, role in (
        ("sysadmin", "系统管理员", Role.sysadmin),
        ("secadmin", "安全管理员", Role.secadmin),
        ("auditor", "审计管理员", Role.auditor),
    ):
        password = _initial_password()
        user = User(username=username, name=name, unit=unit, must_change_password=True)
        user.set_password(password)
        user.set_roles([role])
        db.session.add(user)
        click.echo(f"  {username:<10} {password}")
    db.session.commit()


@gaoxin_cli.command("import-enterprises")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--show", "show_count", default=20, show_default=True, help="How many refused rows to print.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the whole per-row report (unused columns, every refused row) to this .csv or .xlsx file.")
def import_enterprises_command(path, show_count, report_path):
    """Import the registry from a CSV (UTF-8/GBK) or XLSX export; exits non-zero if the file is refused."""
    from .services.audit import record
    from .services.imports import ImportFileError, import_table, read_table, report_rows, write_report

    if report_path and not report_path.lower().endswith((".csv", ".xlsx")):
        raise click.BadParameter("报告文件须以 .csv 或 .xlsx 结尾。", param_hint="--report")
    started = time.perf_counter()
    try:
        table = read_table(path, path)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc

    def on_batch(result):
        db.session.commit()
        click.echo(f"  已处理 {result.processed} 行…", err=True)

    result = import_table(table, on_batch=on_batch)
    record("enterprises_imported", detail=f"{path}（命令行）：新增{result.created}，更新{result.updated}，拒绝{result.refused}",
           username="cli")
    db.session.commit()
    click.echo(f"导入完成：共 {result.processed} 行，新增 {result.created}，更新 {result.updated}，"
               f"未变化 {result.unchanged}，拒绝 {result.refused}；用时 {time.perf_counter() - started:.1f} 秒。")
    if result.unused_columns:
        click.echo(f"未使用的列（内容未导入）：{'、'.join(result.unused_columns)}")
    for row, column, reason in result.problems[:show_count]:
        click.echo(f"  第{row}行 [{column}] {reason}")
    if report_path:
        rows = report_rows(result.problems, result.unused_columns, table.header_number)
        write_report(rows, report_path)
        click.echo(f"完整报告（{len(rows)} 条）已写入 {report_path}。")
    elif len(result.problems) > show_count:
        click.echo(f"  ……另有 {len(result.problems) - show_count} 个问题未列出；用 --report 报告.csv 或 报告.xlsx 写出完整报告。")


@gaoxin_cli.command("audit-verify")
@click.argument("archives", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def audit_verify_command(archives):
    """Check the audit log's hash chain, or the given archive files; exits 1 naming the first broken entry."""
    from .services import audit

    broken = False
    if archives:
        for path in archives:
            check = audit.verify_archive(path)
            click.echo(f"{path}：{check.summary}")
            broken = broken or not check.ok
    else:
        started = time.perf_counter()
        check = audit.verify_chain()
        audit.save_check(check, username="cli")
        db.session.commit()
        click.echo(f"{check.summary}（用时 {time.perf_counter() - started:.1f} 秒）")
        broken = not check.ok
    if broken:
        raise click.exceptions.Exit(1)


@gaoxin_cli.command("audit-archive")
@click.option("--before", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Archive entries before this China date (at least six months ago).")
@click.argument("path", type=click.Path(dir_okay=False))
def audit_archive_command(before, path):
    """Move audit entries older than --before to PATH (JSON lines with their hashes); the chain still verifies."""
    from .services import audit

    try:
        result = audit.archive(before.date(), path)
    except audit.AuditArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if not result.count:
        click.echo(f"{before:%Y-%m-%d} 以前没有可归档的记录。")
        return
    click.echo(f"已归档 {result.count} 条记录（序号 {result.first_seq}–{result.last_seq}）至 {path}，并从表中移出；"
               f"表中的链从此接续，锚点哈希 {result.last_hash}。")
    click.echo(f"请妥善保存该文件，可用 flask gaoxin audit-verify {path} 校验。")


@gaoxin_cli.command("worker")
@click.option("--workers", type=int, default=None, help="Worker threads (default GAOXIN_JOBS_WORKERS).")
def worker_command(workers):
    """Run the background-job consumer (imports, exports, due dates) and the periodic jobs until stopped."""
    from flask import current_app

    queue = current_app.extensions["gaoxin_jobs"]
    if queue.immediate:
        raise click.ClickException("GAOXIN_JOBS_URL=immediate：任务在请求内运行，无需后台进程。")
    import logging

    workers = workers or current_app.config["GAOXIN_JOBS_WORKERS"]
    # The consumer logs each task's start, end, retry and error; without a handler they would go nowhere.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"后台任务进程已启动：{type(queue.huey).__name__}，{workers} 个线程（Ctrl+C 停止）。", err=True)
    queue.consumer(workers).run()


@gaoxin_cli.command("backup")
@click.argument("target", type=click.Path(file_okay=False))
@click.option("--replace", is_flag=True,
              help="Replace the backup already in TARGET (its attachments are kept; only missing ones are copied).")
def backup_command(target, replace):
    """Back up the database and the attachments into TARGET (a new or empty directory), with a manifest."""
    from flask import current_app

    from .services.backup import BackupError, backup

    started = time.perf_counter()
    try:
        report = backup(db.engine, current_app.config["GAOXIN_DATA_DIR"], target, replace=replace,
                        app_version=_code_revision())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines:
        click.echo(line)
    click.echo(f"备份完成：{target}，用时 {time.perf_counter() - started:.1f} 秒（{_timings(report)}）。")


@gaoxin_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
def restore_command(source):
    """Restore the backup in SOURCE into this empty database and data directory, then verify counts and hashes."""
    from flask import current_app

    from .services.backup import BackupError, restore

    started = time.perf_counter()
    try:
        report = restore(db.engine, current_app.config["GAOXIN_DATA_DIR"], source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines:
        click.echo(line)
    if report.problems:
        for problem in report.problems:
            click.echo(f"  不符：{problem}", err=True)
        raise click.ClickException(f"恢复后的核对发现 {len(report.problems)} 处与备份清单不符。")
    click.echo(f"恢复完成并核对无误（各表行数、每个附件的哈希），用时 {time.perf_counter() - started:.1f} 秒"
               f"（{_timings(report)}）。")


def _code_revision():
    """The newest migration this code knows (the schema the running version expects)."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


def _timings(report):
    names = {"database": "数据库", "files": "附件", "verify": "核对"}
    return "，".join(f"{names.get(k, k)} {v:.1f} 秒" for k, v in report.timings.items())


@gaoxin_cli.command("rollup-rebuild")
def rollup_rebuild_command():
    """Recompute the dashboard's rollup from the appeals (a repair; it is kept with every change)."""
    from .services import rollups

    started = time.perf_counter()
    count = rollups.rebuild(db.session)
    db.session.commit()
    click.echo(f"汇总表已重建：{count} 行（用时 {time.perf_counter() - started:.1f} 秒）。")
