"""Demo data: the units of the source article, one user per role, a registry of enterprises."""
from sqlalchemy import func, select

from ..extensions import db
from ..models import Building, Role, Unit, UnitKind, User

#: The eight departments named in the article; 财政金融局 pays out policy money.
DEPARTMENTS = ["经济运行局", "科技人才局", "发展规划局", "财政金融局", "规划建设局", "市场监管局", "投资服务局", "政务服务中心"]
PAYING_DEPARTMENT = "财政金融局"

#: 20 buildings with a 楼宇企业服务站 each.
BUILDINGS = [
    "天府软件园", "环球中心", "天府国际金融中心", "银泰中心", "来福士广场", "高新国际广场", "天府长岛",
    "OCG国际中心", "中海国际中心", "新希望国际", "仁恒置地广场", "蜀都中心", "菁蓉汇", "天府三街孵化园",
    "腾讯大厦", "华润大厦", "英郡商务楼", "交子金融大厦", "成都远洋太古里商务楼", "天府新谷",
]

#: 14 企业服务中心工作服务点, by street and park.
SERVICE_POINTS = [
    "肖家河街道", "芳草街街道", "石羊街道", "桂溪街道", "合作街道", "西园街道", "中和街道",
    "新川创新科技园", "天府国际生物城", "电子信息产业功能区", "新经济活力区", "交子公园金融商务区",
    "未来科技城", "西部园区",
]

DEMO_PASSWORD = "Gaoxin@2026"

#: (username, name, unit name, roles) — one account per role for trying the site.
DEMO_USERS = [
    ("clerk_station", "王小红", "天府软件园楼宇企业服务站", [Role.clerk]),
    ("clerk_point", "李建国", "桂溪街道服务点", [Role.clerk]),
    ("window", "张丽", "一窗式政策申报和受理服务窗口", [Role.window]),
    ("dispatcher", "陈静", "企业服务中心", [Role.dispatcher]),
    ("handler", "刘洋", "科技人才局", [Role.handler]),
    ("handler2", "赵磊", "科技人才局", [Role.handler]),
    ("handler_fin", "周敏", "财政金融局", [Role.handler]),
    ("dept_lead", "黄志强", "科技人才局", [Role.dept_lead]),
    ("leader", "孙卫东", "管委会", [Role.leader]),
    ("sysadmin", "系统管理员", "企业服务中心", [Role.sysadmin]),
    ("secadmin", "安全管理员", "企业服务中心", [Role.secadmin]),
    ("auditor", "审计管理员", "企业服务中心", [Role.auditor]),
]


def is_empty():
    """True when the database has no users yet (a fresh install)."""
    return db.session.scalar(select(func.count(User.id))) == 0


def create_units():
    """The article's units: departments, stations, points, the window, the dispatch centre, the zone."""
    units = [Unit(name=n, kind=UnitKind.department, is_paying_unit=(n == PAYING_DEPARTMENT)) for n in DEPARTMENTS]
    stations = [Unit(name=f"{b}楼宇企业服务站", kind=UnitKind.building_station) for b in BUILDINGS]
    units += stations
    units += [Unit(name=f"{p}服务点", kind=UnitKind.service_point) for p in SERVICE_POINTS]
    units.append(Unit(name="一窗式政策申报和受理服务窗口", kind=UnitKind.window))
    units.append(Unit(name="企业服务中心", kind=UnitKind.dispatch_centre))
    units.append(Unit(name="管委会", kind=UnitKind.zone))
    db.session.add_all(units)
    db.session.flush()
    db.session.add_all(
        Building(name=b, address=f"成都高新区{b}", station_id=s.id) for b, s in zip(BUILDINGS, stations)
    )
    db.session.flush()
    return units


def create_users(password=DEMO_PASSWORD):
    """One demo account per role; demo accounts skip the forced first password change."""
    units = {u.name: u for u in db.session.scalars(select(Unit))}
    users = []
    for username, name, unit_name, roles in DEMO_USERS:
        user = User(username=username, name=name, unit=units[unit_name], must_change_password=False)
        user.set_password(password)
        user.set_roles(roles)
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    return users
