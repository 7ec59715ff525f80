"""Write a realistic market-regulator export: Chinese headers, 登记状态, 成立日期, 经营范围 and the columns we do not use.

    .venv/bin/python bench/gen_registry.py [--rows 220000] [--xlsx]

220,000 rows come to about 124 MB of CSV (UTF-8 with BOM), as the real export does: most of it is the
long 经营范围 text. About 2 rows in 11 are 注销 or 吊销. The file is cached under bench/out/
(registry-full-<rows>.csv); the names and codes are demo_data.enterprise_rows', so the rows are valid.
"""
import argparse
import csv
import random
from datetime import date, timedelta

from common import OUT

HEADER = ["序号", "企业名称", "统一社会信用代码", "登记状态", "法定代表人", "企业类型", "注册资本（万元）", "成立日期",
          "核准日期", "登记机关", "所属行业", "企业规模", "住所", "经营范围"]
#: 登记状态 and their weights out of 11: about 2 in 11 are 注销 or 吊销.
STATUSES = (("存续（在营、开业、在册）", 7), ("在业", 2), ("注销", 1), ("吊销，未注销", 1))
TYPES = ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "股份有限公司（非上市、自然人投资或控股）",
         "有限责任公司（法人独资）", "其他有限责任公司", "个人独资企业")
AUTHORITIES = ("成都高新技术产业开发区市场监督管理局", "成都市市场监督管理局", "成都高新区行政审批局")
SCOPE_PHRASES = (
    "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广", "软件开发", "信息系统集成服务",
    "信息技术咨询服务", "数据处理和存储支持服务", "人工智能应用软件开发", "网络技术服务", "计算机系统服务",
    "电子产品销售", "通讯设备销售", "仪器仪表销售", "机械设备租赁", "会议及展览服务", "企业管理咨询",
    "市场营销策划", "广告设计、代理", "广告制作", "物联网技术研发", "集成电路设计", "集成电路芯片及产品销售",
    "工业互联网数据服务", "智能控制系统集成", "医学研究和试验发展", "第一类医疗器械销售", "第二类医疗器械销售",
    "货物进出口", "技术进出口", "新材料技术研发", "工程和技术研究和试验发展", "专业设计服务", "图文设计制作",
    "办公设备耗材销售", "五金产品零售", "建筑材料销售", "日用百货销售", "食品销售（仅销售预包装食品）",
    "许可项目：第二类增值电信业务", "建设工程施工", "检验检测服务", "餐饮服务", "住宅室内装饰装修",
)
SCOPE_END = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"
SIZE_TITLES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


def scope(rng):
    """A 经营范围 of 3 to 12 phrases (the real ones run from a line to a paragraph)."""
    return "；".join(rng.sample(SCOPE_PHRASES, rng.randint(3, 12))) + SCOPE_END


def registry_file(rows, seed=13):
    """The realistic export as CSV; cached under bench/out/. Returns its path."""
    from gaoxin.demo_data import enterprise_rows
    from gaoxin.reference import INDUSTRY_SECTIONS

    path = OUT / f"registry-full-{rows}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    statuses, weights = zip(*STATUSES)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for number, r in enumerate(enterprise_rows(rows), 1):
            founded = date(1995, 1, 1) + timedelta(days=rng.randrange(11000))
            writer.writerow([
                number, r["name"], r["credit_code"], rng.choices(statuses, weights)[0], r["legal_rep"],
                rng.choice(TYPES), f"{rng.choice((10, 50, 100, 200, 500, 1000, 3000)):.6f}", founded.isoformat(),
                (founded + timedelta(days=rng.randrange(3000))).isoformat(), rng.choice(AUTHORITIES),
                INDUSTRY_SECTIONS[r["industry"]], SIZE_TITLES[r["size"]], r["address"], scope(rng),
            ])
    tmp.rename(path)
    return path


def registry_xlsx(rows):
    """The same export as XLSX (written by xlsxwriter); cached under bench/out/."""
    import xlsxwriter

    path = OUT / f"registry-full-{rows}.xlsx"
    if not path.exists():
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = workbook.add_worksheet()
        with open(registry_file(rows), encoding="utf-8-sig", newline="") as f:
            for index, values in enumerate(csv.reader(f)):
                sheet.write_row(index, 0, values)
        workbook.close()
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=220_000)
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()
    path = registry_xlsx(args.rows) if args.xlsx else registry_file(args.rows)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, {args.rows} rows")


if __name__ == "__main__":
    main()
