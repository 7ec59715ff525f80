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
    return created


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
