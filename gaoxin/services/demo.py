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
    ("organiser", "吴晓梅", "经济运行局", [Role.dept_lead]),
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


# --------------------------------------------------------------------------- appeals (诉求)

#: (category, lead department or None → the dispatch centre's queue, co-handling departments, working days).
#: 人才 has no standing co-handler: talent policies are 科技人才局's own, and a standing 协办 would hold every
#: talent reply until another department gave its opinion; the dispatcher adds one case by case.
DEMO_CATEGORIES = [
    ("人才", "科技人才局", [], 5),
    ("融资", "财政金融局", [], 5),
    ("场地", "投资服务局", ["规划建设局"], 10),
    ("政策咨询", None, [], 5),
    ("审批服务", "政务服务中心", [], 3),
    ("知识产权", "市场监管局", [], 5),
    ("市场拓展", "经济运行局", [], 5),
    ("其他", None, [], 5),
]

DEMO_SALON = {"theme": "促进民营企业发展", "venue": "菁蓉汇"}

#: What enterprises ask, by category; cycled through the demo appeals.
DEMO_CONTENTS = {
    "人才": ["公司新引进两名博士，希望了解人才公寓申请条件和办理流程。", "申请蓉漂人才计划，需了解申报材料清单及截止时间。",
             "核心技术骨干子女入学遇到困难，希望协调就近入学。", "希望了解高层次人才安家补贴的发放进度。"],
    "融资": ["企业拟申请科技型中小企业贷款贴息，想了解贴息比例和申请时间。", "需要对接知识产权质押融资渠道，希望推荐合作银行。",
             "首贷续贷遇到抵押物不足的问题，希望协调政策性担保。"],
    "场地": ["研发团队扩大，需要约2000平方米的研发办公场地。", "希望了解孵化园区租金补贴政策及入驻条件。",
             "生产线扩建，需协调厂房用地规划调整。"],
    "政策咨询": ["想了解今年高新技术企业认定奖励的申报条件。", "咨询研发费用加计扣除的最新口径。", "咨询专精特新企业认定的支持政策。"],
    "审批服务": ["建设项目施工许可办理进度较慢，希望协调加快。", "办理食品经营许可证，希望了解是否可以容缺受理。"],
    "知识产权": ["公司商标被他人抢注，希望获得维权指导。", "希望了解专利快速预审通道的申请方式。"],
    "市场拓展": ["希望参加区里组织的产品推介会，对接本地应用场景。", "产品已定型，希望对接区内大型企业的采购需求。"],
    "其他": ["园区周边公交线路不便，员工通勤困难，希望增开班次。", "企业门前道路施工影响货车进出，希望协调施工时段。"],
}

#: The demo appeals: (category, recorder, at the salon, working days ago, steps). A step is (action, who, *args);
#: `ago` backdates the whole case so that lists show ages, deadlines due soon and overdue ones.
DEMO_APPEALS = [
    ("人才", "clerk_station", False, 0, []),
    ("人才", "clerk_point", False, 1, [("sign", "handler")]),
    ("人才", "window", False, 1, [("sign", "handler2"), ("note", "handler2", "已电话联系企业，约定周四上门核实材料。")]),
    ("人才", "clerk_station", True, 0, [("sign", "dept_lead"), ("assign", "dept_lead", "handler2")]),
    ("人才", "clerk_station", False, 3, [("sign", "handler"), ("supervise", "dispatcher", "企业多次来电催问，请加快办理。")]),
    ("人才", "clerk_point", False, 3, [("sign", "handler"), ("extend", "handler", 3, "需等待人社部门出具资格审核意见。")]),
    ("人才", "window", False, 4, [("sign", "handler2"), ("extend", "handler2", 5, "涉及跨部门联审，材料需补充。"),
                                   ("approve", "dispatcher")]),
    ("人才", "clerk_station", False, 4, [("sign", "handler"),
                                          ("reply", "handler", "resolved", "已为企业两名博士办理人才公寓入住，请于下周一前往领取钥匙。")]),
    ("人才", "clerk_station", False, 6, [("sign", "handler"),
                                          ("reply", "handler", "adopted", "企业关于简化申报材料的建议已采纳，新版清单下月起执行。"),
                                          ("follow_up", "clerk_station", "satisfied", "企业对办理结果满意。")]),
    ("人才", "clerk_point", False, 0, [("sign", "handler"),
                                        ("reply", "handler", "explained", "经核实，该补贴按年度集中发放，预计12月底到账。"),
                                        ("follow_up", "clerk_point", "unsatisfied", "企业希望明确具体到账日期。")]),
    ("人才", "clerk_station", False, 1, [("return", "handler", "发展规划局", "子女入学事项属教育部门，不属本局职责。")]),
    ("人才", "dispatcher", False, 3, []),
    ("人才", "clerk_station", False, 8, [("sign", "handler2")]),
    ("人才", "window", False, 1, [("withdraw", "window", "企业已自行解决，申请撤回。")]),
    ("人才", "clerk_station", True, 0, [("dispatch", "dispatcher", "科技人才局", ["财政金融局"]), ("sign", "handler"),
                                         ("opinion", "handler_fin", "补贴资金已纳入本年度预算，可按程序拨付。")]),
    ("人才", "clerk_point", False, 5, [("sign", "handler2"),
                                        ("reply", "handler2", "resolved", "已协调学校为企业骨干子女办理入学手续。"),
                                        ("follow_up", "clerk_point", "basically", "基本满意，希望今后流程更快。")]),
    ("人才", "clerk_point", False, 2, [("sign", "handler"),
                                        ("reply", "handler", "adopted", "企业提出的人才认定标准建议已纳入明年政策修订。")]),
    ("融资", "clerk_station", False, 0, []),
    ("融资", "clerk_station", True, 0, [("sign", "handler_fin")]),
    ("融资", "clerk_point", False, 3, [("sign", "handler_fin"),
                                        ("reply", "handler_fin", "resolved", "已推荐两家合作银行，银行客户经理将于三日内联系企业。")]),
    ("融资", "window", False, 5, [("sign", "handler_fin"),
                                   ("reply", "handler_fin", "explained", "贴息按季度申报，本季度申报窗口为下月1日至15日。"),
                                   ("follow_up", "window", "satisfied", None)]),
    ("融资", "clerk_point", False, 7, [("sign", "handler_fin")]),
    ("融资", "clerk_station", True, 0, [("supervise", "dispatcher", "沙龙现场提出，请优先办理。")]),
    ("融资", "clerk_station", False, 1, [("return", "handler_fin", "科技人才局", "该事项为人才安家补贴，不属融资类。")]),
    ("场地", "clerk_station", True, 0, []),
    ("场地", "clerk_station", False, 2, []),
    ("场地", "clerk_point", False, 12, []),
    ("场地", "window", False, 1, []),
    ("政策咨询", "clerk_station", False, 0, []),
    ("政策咨询", "clerk_station", True, 0, []),
    ("政策咨询", "window", False, 2, [("dispatch", "dispatcher", "科技人才局", []), ("sign", "handler")]),
    ("政策咨询", "clerk_point", False, 5, [("dispatch", "dispatcher", "财政金融局", []), ("sign", "handler_fin"),
                                          ("reply", "handler_fin", "explained",
                                           "研发费用加计扣除按财政部税务总局2023年第7号公告执行，已向企业寄送政策解读。"),
                                          ("follow_up", "dispatcher", "satisfied", "电话回访，企业满意。")]),
    ("审批服务", "clerk_station", True, 0, []),
    ("审批服务", "window", False, 1, []),
    ("知识产权", "clerk_station", False, 0, []),
    ("知识产权", "clerk_point", False, 2, []),
    ("市场拓展", "clerk_station", True, 0, []),
    ("市场拓展", "clerk_station", False, 1, []),
    ("其他", "clerk_point", False, 0, []),
    ("其他", "dispatcher", False, 1, [("dispatch", "dispatcher", "经济运行局", [])]),
]

#: The channel each demo recorder uses when not at the salon.
DEMO_CHANNELS = {"clerk_station": "building_station", "clerk_point": "service_point", "window": "window",
                 "dispatcher": "phone"}


def create_demo_categories():
    """The eight categories of the article with their routing rules; existing names are left alone."""
    from ..models import AppealCategory

    units = {u.name: u for u in db.session.scalars(select(Unit))}
    existing = set(db.session.scalars(select(AppealCategory.name)))
    categories = []
    for position, (name, lead, co, days) in enumerate(DEMO_CATEGORIES, start=1):
        if name in existing:
            continue
        categories.append(AppealCategory(
            name=name, position=position, lead_unit=units.get(lead) if lead else None,
            co_units=[units[n] for n in co], handling_days=days,
        ))
    db.session.add_all(categories)
    db.session.flush()
    return categories


def _demo_step(appeal, step, users, units):
    """Apply one scripted step through the appeal services, so the timeline is what real use writes."""
    from . import appeals

    action, who, *args = step
    actor = users[who]
    if action == "sign":
        appeals.sign(appeal, actor)
    elif action == "note":
        appeals.add_note(appeal, actor, text=args[0])
    elif action == "assign":
        appeals.assign(appeal, actor, assignee=users[args[0]])
    elif action == "supervise":
        appeals.supervise(appeal, actor, comment=args[0])
    elif action == "extend":
        appeals.request_extension(appeal, actor, days=args[0], reason=args[1])
    elif action == "approve":
        extension = next(x for x in appeals._pending_extensions(appeal))
        appeals.decide_extension(extension, actor, approve=True, comment="同意延期。")
    elif action == "reply":
        appeals.reply(appeal, actor, outcome=args[0], text=args[1])
    elif action == "follow_up":
        appeals.follow_up(appeal, actor, satisfaction=args[0], comment=args[1])
    elif action == "return":
        appeals.return_to_dispatch(appeal, actor, reason=args[1], suggested_unit=units[args[0]])
    elif action == "dispatch":
        appeals.dispatch(appeal, actor, lead_unit=units[args[0]], co_units=[units[n] for n in args[1]])
    elif action == "opinion":
        appeals.give_opinion(appeal, actor, text=args[0])
    elif action == "withdraw":
        appeals.withdraw(appeal, actor, reason=args[0])
    db.session.flush()


#: Timeline action → the appeal's timestamp it sets, so a backdated demo case agrees with its own timeline.
_EVENT_TIMES = {
    "route": ["dispatched_at"], "dispatch": ["dispatched_at"], "sign": ["signed_at"], "supervise": ["supervised_at"],
    "reply": ["replied_at"], "follow_up_satisfied": ["followed_up_at", "closed_at"],
    "follow_up_unsatisfied": ["followed_up_at"], "withdraw": ["closed_at"],
}


def _backdate(appeal, workdays_ago):
    """Move a demo case `workdays_ago` working days into the past: its times, receipt and deadlines.

    Demo data only: real cases get their dates from the clock, never from here."""
    from datetime import datetime, time, timedelta, timezone

    from ..localtime import CST
    from ..models import Event, Extension
    from ..models.appeal import SIGN_DAYS
    from .calendar import today, working_calendar

    calendar = working_calendar()
    start = calendar.add_workdays(today(), -workdays_ago)
    # 09:30 China time on the first day, then a step every 70 minutes, as a working day goes.
    base = datetime.combine(start, time(9, 30), CST).astimezone(timezone.utc)
    events = list(db.session.scalars(select(Event).where(Event.appeal_id == appeal.id).order_by(Event.id)))
    old_receipt = appeal.receipt_no
    appeal.receipt_no = f"SQ{start:%Y%m%d}{appeal.id:07d}"
    appeal.created_at = base
    for i, event in enumerate(events):
        event.at = base + timedelta(minutes=70 * i)
        if event.public_text:
            event.public_text = event.public_text.replace(old_receipt, appeal.receipt_no)
        for name in _EVENT_TIMES.get(event.action, ()):
            if getattr(appeal, name) is not None:
                setattr(appeal, name, event.at)
    if appeal.lead_unit_id is not None and not appeal.reopened:
        appeal.sign_due_on = calendar.add_workdays(start, SIGN_DAYS)
        appeal.due_on = calendar.add_workdays(start, appeal.handling_days + appeal.extended_days)
    requests = [e.at for e in events if e.action == "extend_request"]
    decisions = [e.at for e in events if e.action in ("extend_approve", "extend_refuse")]
    for i, extension in enumerate(db.session.scalars(
        select(Extension).where(Extension.appeal_id == appeal.id).order_by(Extension.id)
    )):
        extension.requested_at = requests[i] if i < len(requests) else base
        if extension.decided_at is not None and i < len(decisions):
            extension.decided_at = decisions[i]


def create_demo_cases():
    """Categories with routing, today's salon and about forty appeals in every state, made through the services."""
    from ..models import Enterprise, Salon
    from . import appeals
    from .calendar import today

    create_demo_categories()
    from ..models import AppealCategory

    categories = {c.name: c for c in db.session.scalars(select(AppealCategory))}
    usernames = [row[0] for row in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
    units = {u.name: u for u in db.session.scalars(select(Unit))}
    enterprises = list(db.session.scalars(select(Enterprise).order_by(Enterprise.id).limit(24)))
    if not enterprises or len(users) < len(DEMO_USERS):
        return []
    salon = Salon(held_on=today(), created_by_id=users["dispatcher"].id, **DEMO_SALON)
    db.session.add(salon)
    db.session.flush()
    created = []
    for i, (category, recorder, at_salon, ago, steps) in enumerate(DEMO_APPEALS):
        enterprise = enterprises[i % len(enterprises)]
        contents = DEMO_CONTENTS[category]
        appeal, _ = appeals.record(
            users[recorder], enterprise=enterprise, category=categories[category],
            channel="salon" if at_salon else DEMO_CHANNELS[recorder], content=contents[i % len(contents)],
            contact=enterprise.contacts[0] if enterprise.contacts else None, salon=salon if at_salon else None,
        )
        for step in steps:
            _demo_step(appeal, step, users, units)
        if ago:
            _backdate(appeal, ago)
        created.append(appeal)
    db.session.flush()
    _demo_salons(salon, users, units, enterprises, created)
    return created


def create_demo_daily_work():
    """After the demo cases and policies: counter telephones, canned replies, a merged duplicate and policy
    applications in every state, so that every page a newcomer opens has something on it."""
    from ..models import AppealCategory, Enterprise

    usernames = [row[0] for row in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
    units = {u.name: u for u in db.session.scalars(select(Unit))}
    categories = {c.name: c for c in db.session.scalars(select(AppealCategory))}
    enterprises = list(db.session.scalars(select(Enterprise).order_by(Enterprise.id).limit(24)))
    if not enterprises or len(users) < len(DEMO_USERS) or "人才" not in categories:
        return []
    _demo_daily_work(users, units, enterprises, categories)
    return _demo_applications(users, enterprises)


#: The counters' telephones printed on receipts and notices (demo numbers).
DEMO_PHONES = {"天府软件园楼宇企业服务站": "028-85180001", "桂溪街道服务点": "028-85180002",
               "一窗式政策申报和受理服务窗口": "028-85180000", "企业服务中心": "028-85180009"}

#: 常用语 of 科技人才局, kept by its lead (黄志强).
DEMO_PHRASES = [
    "经核实，贵企业符合申请条件，请于5个工作日内携带营业执照副本到政务服务中心窗口办理。",
    "已与相关部门协调，具体安排将由经办人电话告知。",
    "该事项不属于本部门职责，已建议转相关部门办理。",
    "已电话联系企业联系人，说明了政策要求和办理流程。",
]


def _demo_daily_work(users, units, enterprises, categories):
    """Counter telephones, the department's canned replies and one duplicate merged into its main case."""
    from ..models import Phrase
    from . import appeals

    for name, phone in DEMO_PHONES.items():
        if name in units:
            units[name].phone = phone
    lead = users["dept_lead"]
    db.session.add_all(Phrase(unit_id=lead.unit_id, text=text, position=i, created_by_id=lead.id)
                       for i, text in enumerate(DEMO_PHRASES, start=1))
    # The same matter raised twice by one enterprise, at a station and by phone: the second is merged.
    enterprise, category = enterprises[0], categories["人才"]
    main, _ = appeals.record(users["clerk_station"], enterprise=enterprise, category=category, channel="building_station",
                             content="员工子女入学需要人才绿卡，希望了解办理条件。",
                             contact=enterprise.contacts[0] if enterprise.contacts else None)
    duplicate, _ = appeals.record(users["clerk_point"], enterprise=enterprise, category=category, channel="phone",
                                  content="再次来电询问人才绿卡办理条件（子女入学）。",
                                  contact=enterprise.contacts[0] if enterprise.contacts else None)
    appeals.merge(duplicate, users["handler"], main_receipt=main.receipt_no, reason="同一企业重复反映同一事项。")
    db.session.flush()


def _demo_applications(users, enterprises):
    """Policy applications in every state, through the services (needs the demo policies; none without)."""
    import re
    from decimal import Decimal

    from ..models import Policy
    from . import applications as service
    from .calendar import today

    # GX-KJ-2026-01 → GX-KJ-01: the demo codes without their year.
    policies = {re.sub(r"-\d{4}-", "-", p.code): p for p in db.session.scalars(select(Policy))}
    if not policies or "GX-KJ-01" not in policies or "GX-CJ-01" not in policies:
        return []
    window, station = users["window"], users["clerk_station"]
    reviewers = {"科技人才局": users["handler"], "财政金融局": users["handler_fin"]}
    #: (policy, who takes it in, declared yuan, the steps to its state)
    scripts = [
        ("GX-KJ-01", station, "120000", ["draft"]),
        ("GX-KJ-02", window, "200000", []),
        ("GX-CJ-02", station, "300000", []),
        ("GX-KJ-01", window, "150000", ["supplement"]),
        ("GX-CJ-02", window, "500000", ["refuse"]),
        ("GX-KJ-01", window, "260000", ["accept"]),
        ("GX-CJ-01", station, "80000", ["accept"]),
        ("GX-KJ-02", window, "300000", ["accept", "approve"]),
        ("GX-KJ-01", window, "90000", ["accept", "reject"]),
        ("GX-CJ-01", window, "150000", ["accept", "approve", "issue"]),
        ("GX-KJ-02", station, "100000", ["accept", "reject", "issue"]),
        ("GX-KJ-01", window, "400000", ["accept", "approve", "issue", "disburse"]),
    ]
    created = []
    for i, (code, intake_by, declared, steps) in enumerate(scripts):
        policy = policies[code]
        items = list(policy.items)
        application, _ = service.save(
            intake_by, enterprise=enterprises[(i + 3) % len(enterprises)], policy=policy,
            declared_amount=Decimal(declared), materials={item.id: ((), True) for item in items},
            submit="draft" not in steps)
        ok = {item.id: ("ok", "") for item in items}
        reviewer = reviewers[policy.department.name]
        for step in steps:
            if step == "supplement":
                service.check(application, window, decision="supplement",
                              marks={**ok, items[0].id: ("faulty", "缺少法定代表人签字和企业公章")})
            elif step == "refuse":
                service.check(application, window, decision="refuse", marks=ok,
                              reason="申报企业注册地不在高新区，不符合申报条件。")
            elif step == "accept":
                service.check(application, window, decision="accept", marks=ok)
            elif step == "approve":
                service.approve(application, reviewer, amount=Decimal(declared) * Decimal("0.8"), comment="符合条件，按80%核定。")
            elif step == "reject":
                service.reject(application, reviewer, reason="上年度研发投入未达到申报条件。")
            elif step == "issue":
                service.issue_result(application, window)
            elif step == "disburse":
                service.disburse(application, users["handler_fin"], amount=application.approved_amount, on=today())
            db.session.flush()
        created.append(application)
    return created


def _demo_salons(salon, users, units, enterprises, appeals):
    """Today's salon held and summarised with its appeals; next month's open for sign-up with two sign-ups."""
    import datetime

    from ..models.salon import Salon, SalonParticipant, SalonSignup, SalonState
    from .calendar import today

    organiser = units["经济运行局"]
    salon.organiser_unit_id = organiser.id
    salon.departments = [units[n] for n in ("科技人才局", "财政金融局", "投资服务局", "经济运行局")]
    attending = {a.enterprise_id for a in appeals if a.salon_id == salon.id} | {e.id for e in enterprises[:12]}
    db.session.add_all(SalonParticipant(salon_id=salon.id, enterprise_id=i, source="registry") for i in sorted(attending))
    salon.state = SalonState.summarised
    salon.summary_note = "15家企业、8个部门面对面交流，现场收集诉求，会后逐项跟踪办理。"
    salon.summarised_at = salon.created_at
    upcoming = Salon(theme="科技型中小企业融资对接", held_on=today() + datetime.timedelta(days=30), venue="天府软件园",
                     created_by_id=users["dispatcher"].id, organiser_unit_id=organiser.id, state=SalonState.open)
    upcoming.departments = [units[n] for n in ("财政金融局", "科技人才局")]
    db.session.add(upcoming)
    db.session.flush()
    for enterprise, topic in zip(enterprises[12:14], ["希望对接知识产权质押融资渠道。", "首贷续贷缺少抵押物，希望了解政策性担保。"]):
        db.session.add(SalonSignup(salon_id=upcoming.id, enterprise_name=enterprise.name, credit_code=enterprise.credit_code,
                                   contact_name="王经理", mobile="13800000000", topic=topic))
    db.session.flush()


#: Checklist materials the demo policies draw on: name → (required, formats, note).
DEMO_POLICY_ITEMS = {
    "营业执照副本": (True, "pdf,jpg,png", "加盖企业公章的复印件扫描件"),
    "申报书": (True, "pdf,docx", "按申报指南模板填写，法定代表人签字并盖章"),
    "上年度审计报告": (True, "pdf", "由会计师事务所出具，含资产负债表和利润表"),
    "研发费用专项审计报告": (True, "pdf", "按研发费用加计扣除口径出具"),
    "知识产权证明": (False, "pdf,jpg,png", "专利证书、软件著作权登记证书等"),
    "社保缴纳证明": (True, "pdf,jpg,png", "近12个月，由社保经办机构出具"),
    "高新技术企业证书": (True, "pdf,jpg,png", None),
    "质押登记通知书": (True, "pdf,jpg", "国家知识产权局出具"),
    "贷款合同及付息凭证": (True, "pdf,xlsx", "付息凭证可汇总为一张表格"),
    "保险合同及保费发票": (True, "pdf,jpg", None),
    "首台（套）产品认定文件": (True, "pdf", None),
    "项目情况说明": (False, "pdf,docx", None),
    "劳动合同": (True, "pdf", "与申报人才签订，期限一年以上"),
    "学历学位证书": (True, "pdf,jpg,png", None),
    "租赁合同": (True, "pdf", "租赁期三年以上"),
    "纳税证明": (True, "pdf,jpg", "上年度，由税务机关出具"),
}

#: (code with {year} for this year, title, level, department, opens and closes (days from today, None: open-ended),
#: max yuan, review working days, items, description).
DEMO_POLICIES = [
    ("GX-KJ-{year}-01", "成都高新区支持企业研发投入补贴", "district", "科技人才局", -60, 120, 500000, 20,
     ["营业执照副本", "申报书", "上年度审计报告", "研发费用专项审计报告", "知识产权证明"],
     "对上年度研发投入增长的企业，按新增研发费用的一定比例给予补贴，单个企业最高50万元。"),
    ("GX-KJ-{year}-02", "高新技术企业认定奖励", "district", "科技人才局", -30, 150, 300000, 15,
     ["营业执照副本", "申报书", "高新技术企业证书", "上年度审计报告"],
     "对首次通过高新技术企业认定的企业给予一次性奖励；重新认定的企业减半奖励。"),
    ("GX-CJ-{year}-01", "知识产权质押融资贴息", "district", "财政金融局", -90, 90, 200000, 20,
     ["营业执照副本", "申报书", "质押登记通知书", "贷款合同及付息凭证", "知识产权证明"],
     "对以专利权、商标权质押获得银行贷款的企业，按实际支付利息的50%给予贴息。"),
    ("CD-JY-{year}-01", "首台（套）重大技术装备保险补偿", "city", "经济运行局", -45, 75, 1000000, 30,
     ["营业执照副本", "申报书", "首台（套）产品认定文件", "保险合同及保费发票", "上年度审计报告", "项目情况说明"],
     "对投保首台（套）重大技术装备综合险的企业，按年度保费的80%给予补偿。"),
    ("SC-JY-{year}-01", "四川省中小企业发展专项资金", "province", "经济运行局", -20, 40, 800000, 25,
     ["营业执照副本", "申报书", "上年度审计报告", "纳税证明", "项目情况说明"],
     "支持中小企业专精特新发展和公共服务平台建设，由区级初审后报省级主管部门。"),
    ("GX-KJ-{year}-03", "人才安居住房补贴", "district", "科技人才局", -200, -1, 100000, 15,
     ["营业执照副本", "申报书", "劳动合同", "学历学位证书", "社保缴纳证明"],
     "对在高新区工作且无自有住房的高层次人才给予住房补贴（本期申报已截止）。"),
    ("GX-TZ-{year}-01", "楼宇经济发展扶持", "district", "投资服务局", 10, 100, 300000, 20,
     ["营业执照副本", "申报书", "租赁合同", "纳税证明"],
     "对新入驻重点楼宇、年纳税达到标准的企业给予租金补贴（下一期尚未开始申报）。"),
    ("GX-CJ-{year}-02", "科技型中小企业贷款风险补偿", "district", "财政金融局", None, None, 500000, 20,
     ["营业执照副本", "申报书", "贷款合同及付息凭证", "上年度审计报告"],
     "对合作银行向科技型中小企业发放的贷款，按损失金额给予风险补偿，常年受理。"),
]


def create_demo_policies():
    """The demo catalogue: eight policies of the zone, the city and the province, with their checklists
    (one closed yesterday, one not yet open); policies whose code exists are left alone."""
    from datetime import timedelta
    from decimal import Decimal

    from ..models import Policy, PolicyItem
    from .calendar import today

    on = today()
    units = {u.name: u for u in db.session.scalars(select(Unit).where(Unit.kind == UnitKind.department.value))}
    existing = set(db.session.scalars(select(Policy.code)))
    created = []
    for code, title, level, department, opens, closes, maximum, days, items, description in DEMO_POLICIES:
        code = code.format(year=on.year)
        if code in existing or department not in units:
            continue
        policy = Policy(
            code=code, title=title, level=level, department=units[department], description=description,
            opens_on=None if opens is None else on + timedelta(days=opens),
            closes_on=None if closes is None else on + timedelta(days=closes),
            max_amount=Decimal(maximum).quantize(Decimal("0.01")), review_days=days,
        )
        for position, name in enumerate(items):
            required, formats, note = DEMO_POLICY_ITEMS[name]
            policy.items.append(PolicyItem(position=position, name=name, required=required, formats=formats, note=note))
        db.session.add(policy)
        created.append(policy)
    db.session.flush()
    return created


#: The demo's enterprise account (log in at /e/login with DEMO_PASSWORD).
DEMO_ENTERPRISE_LOGIN = "qiye"


def create_demo_enterprise_account():
    """One enterprise contact with an activated portal account, on an enterprise whose cases include a reply
    waiting for its rating, so that 我的事项, 评价 and 消息 have something to show."""
    from ..models import Appeal, Contact, EnterpriseAccount, utcnow

    found = db.session.execute(
        select(Appeal.enterprise_id, Appeal.contact_id).where(Appeal.contact_id.is_not(None))
        .order_by((Appeal.state == "replied").desc(), Appeal.id).limit(1)).first()
    if found is None:
        return None
    contact = db.session.get(Contact, found.contact_id)
    now = utcnow()
    account = EnterpriseAccount(enterprise_id=found.enterprise_id, contact_id=contact.id,
                                login_name=DEMO_ENTERPRISE_LOGIN, activated_at=now, password_changed_at=now)
    account.set_password(DEMO_PASSWORD)
    db.session.add(account)
    db.session.flush()
    return account


def demo_enterprise_login():
    """(login name, enterprise name, contact name) of the demo's enterprise account, or None."""
    from ..models import Contact, Enterprise, EnterpriseAccount

    return db.session.execute(
        select(EnterpriseAccount.login_name, Enterprise.name, Contact.name)
        .join(Enterprise, Enterprise.id == EnterpriseAccount.enterprise_id)
        .join(Contact, Contact.id == EnterpriseAccount.contact_id)
        .where(EnterpriseAccount.login_name == DEMO_ENTERPRISE_LOGIN)).first()
