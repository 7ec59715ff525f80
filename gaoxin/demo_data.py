"""Deterministic demo enterprises for the registry: realistic names, valid credit codes, contacts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import accumulate

from stdnum.cn import uscc

from .reference import INDUSTRY_SECTIONS, SIZE_LABELS

__all__ = [
    "INDUSTRY_SECTIONS",
    "SIZE_LABELS",
    "enterprise_rows",
    "make_credit_code",
]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: Registration-authority region codes in Chengdu (5101xx); 510100 (city) and 510109 (高新区 in the
#: statistical division codes) dominate, as they do for enterprises of the zone.
_CHENGDU_REGIONS = (
    "510100", "510104", "510105", "510106", "510107", "510108", "510109", "510112",
    "510113", "510114", "510115", "510116", "510117", "510118", "510121", "510122",
    "510129", "510131", "510132", "510181", "510182", "510183", "510184", "510185",
)
_REGION_WEIGHTS = (30, 3, 3, 3, 6, 3, 40, 2, 1, 1, 2, 3, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1)

#: Sections with their weight in the demo zone and the industry words used in names.
_SECTION_WORDS = {
    "I": (30, ("科技", "信息技术", "软件", "网络科技", "数据服务", "通信技术", "智能科技",
               "信息科技", "数字科技", "云计算", "物联网科技", "微电子", "集成电路设计")),
    "C": (18, ("电子", "智能制造", "精密机械", "光电", "新材料", "医疗器械", "半导体",
               "电气", "机电设备", "通信设备", "仪器仪表", "新能源", "生物医药")),
    "M": (14, ("生物医药", "检测技术", "工程设计", "环保科技", "生物科技", "医药科技",
               "技术服务", "科技研究院", "测绘", "知识产权服务")),
    "L": (10, ("商务咨询", "企业管理咨询", "供应链管理", "人力资源", "广告", "会展服务",
               "投资管理", "文化传媒")),
    "F": (9, ("贸易", "商贸", "电子商务", "医药", "实业", "进出口贸易", "汽车销售")),
    "K": (3, ("置业", "物业管理", "房地产开发", "房地产经纪")),
    "J": (3, ("股权投资基金管理", "融资担保", "小额贷款", "金融服务", "创业投资")),
    "E": (2, ("建设工程", "建筑工程", "装饰工程", "安装工程")),
    "G": (2, ("物流", "供应链", "国际货运代理", "运输")),
    "R": (2, ("文化传媒", "影视文化", "体育文化", "文化传播", "动漫")),
    "N": (2, ("环境工程", "园林绿化", "水务科技", "环境治理")),
    "Q": (1, ("医院管理", "健康管理", "养老服务", "医疗管理")),
    "P": (1, ("教育科技", "教育咨询", "职业技能培训")),
    "H": (1, ("餐饮管理", "酒店管理", "餐饮")),
    "O": (1, ("家政服务", "汽车维修", "电器维修")),
    "D": (1, ("能源", "燃气", "电力工程", "新能源科技")),
    "A": (0.3, ("农业科技", "生态农业", "林业科技")),
    "B": (0.1, ("矿业", "矿产资源")),
    "S": (0.05, ("行业服务",)),
}
_SECTIONS = tuple(_SECTION_WORDS)
_SECTION_WEIGHTS = tuple(weight for weight, _ in _SECTION_WORDS.values())

#: Two syllable lists; a brand is one of each (数 + 联), sometimes two brands (数联 + 铭品).
_BRAND_FIRST = (
    "数锐天蓉智云华星铭海中金博创恒瑞科新盛宏鼎泰益卓优微联易汇嘉康正信达景思睿翔腾凯万安"
    "众聚远银光长蜀锦川巴芯慧启极迅灵佳德元和永旭晟昊弘鑫宇航晶纳沃凌拓麦奥格斯"
)
_BRAND_SECOND = (
    "联芯府创汇图西辰品通源达睿迪网维信盛力泰诚数智云杰诺航拓讯能光晨领迈欣宇越安乐途驰"
    "锐合丰峰瀚为思鹏凌铂新博微电视美捷科易程策道邦川明远宏泽恒威"
)

#: Common surnames, roughly by frequency, and given-name characters.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 30.0 - index * 0.25) for index in range(len(_SURNAMES)))
_GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉俊峰建国"
    "志强文斌浩宇子涵欣怡梓轩思远晓东海燕丹凤佳琪雨婷一鸣嘉怡立新红梅春华海波永刚宏伟"
    "诗雨晨曦博文天佑俊杰雪梅"
)

#: Roads of 成都高新区 (south and west parks).
_ROADS = (
    "天府大道中段", "天府大道北段", "益州大道中段", "益州大道北段", "天府三街", "天府四街",
    "天府五街", "天府二街", "府城大道西段", "府城大道中段", "盛邦街", "交子大道", "科园南路",
    "科园二路", "新园大道", "锦城大道", "剑南大道中段", "吉泰五路", "盛和一路", "世纪城路",
    "天华二路", "高朋大道", "紫荆西路", "创业路", "西芯大道", "合作路", "新达路", "天辰路",
    "德华路", "萃华路", "芳草街", "桂溪路",
)
_PARKS = ("天府软件园", "天府新谷", "高新孵化园", "天府国际金融中心", "环球中心", "菁蓉汇",
          "蓉光大厦", "银泰中心", "成都芯谷", "天府生命科技园")

_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "193", "195", "196", "197", "198", "199",
)

_SIZES = ("large", "medium", "small", "micro")
_SIZE_WEIGHTS = (1, 7, 32, 60)

_SUFFIXES = ("有限公司", "股份有限公司", "有限责任公司")
_SUFFIX_WEIGHTS = (86, 6, 8)

# Cumulative weights, so rng.choices does not re-add them on every call.
_REGION_CUM = tuple(accumulate(_REGION_WEIGHTS))
_SECTION_CUM = tuple(accumulate(_SECTION_WEIGHTS))
_SURNAME_CUM = tuple(accumulate(_SURNAME_WEIGHTS))
_SIZE_CUM = tuple(accumulate(_SIZE_WEIGHTS))
_SUFFIX_CUM = tuple(accumulate(_SUFFIX_WEIGHTS))

#: The four enterprises named in the source article come first, in this order.
_ARTICLE_ENTERPRISES = (
    ("成都迈普通信技术股份有限公司", "C", "large"),
    ("成都数联铭品科技有限公司", "I", "medium"),
    ("成都锐成芯微科技股份有限公司", "I", "medium"),
    ("成都硅宝科技股份有限公司", "C", "large"),
)


def _org_code_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(char) if char.isdigit() else ord(char) - 55) * weight
                for char, weight in zip(body, weights))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_credit_code(rng: random.Random) -> str:
    """A valid 91-prefixed (工商, 企业) credit code registered in Chengdu."""
    region = rng.choices(_CHENGDU_REGIONS, cum_weights=_REGION_CUM)[0]
    if rng.random() < 0.75:
        # Codes assigned since 2015 in Sichuan start MA6.
        body = "MA6" + "".join(rng.choices(_USCC_ALPHABET, k=5))
    else:
        # Older organisation codes carried over from the pre-2015 certificate: 8 digits.
        body = str(rng.randrange(10000000, 99999999))
    first17 = "91" + region + body + _org_code_check_char(body)
    return first17 + uscc.calc_check_digit(first17)


def _person_name(rng: random.Random) -> str:
    """A 2- or 3-character Chinese personal name."""
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    given = rng.choice(_GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(_GIVEN_CHARS)
    return surname + given


def _brand(rng: random.Random) -> str:
    """A 2-character brand, or now and then two brands joined (数联 + 铭品)."""
    while True:
        first, second = rng.choice(_BRAND_FIRST), rng.choice(_BRAND_SECOND)
        if first != second:
            break
    brand = first + second
    if rng.random() < 0.12:
        more = _brand(rng)[:2]
        if not set(more) & set(brand):
            brand += more
    return brand


def _company_name(rng: random.Random, section: str, attempt: int) -> str:
    """A company name for a section; later attempts use rarer forms to escape collisions."""
    word = rng.choice(_SECTION_WORDS[section][1])
    suffix = rng.choices(_SUFFIXES, cum_weights=_SUFFIX_CUM)[0]
    brand = _brand(rng)
    form = rng.random() if attempt < 5 else 1.0
    if form < 0.72:
        return f"成都{brand}{word}{suffix}"
    if form < 0.90:
        return f"四川{brand}{word}{suffix}"
    if form < 0.97:
        return f"{brand}（成都）{word}{suffix}"
    prefix = ("成都高新", "成都天府", "四川天府", "成都蓉城")[attempt % 4]
    return f"{prefix}{brand}{_brand(rng)}{word}{suffix}"


def _address(rng: random.Random) -> str:
    """An address in 成都高新区, sometimes with park, building and floor."""
    address = f"成都高新区{rng.choice(_ROADS)}{rng.randint(1, 1999)}号"
    roll = rng.random()
    if roll < 0.45:
        address += f"{rng.choice(_PARKS)}{rng.randint(1, 12)}栋{rng.randint(1, 28)}层"
    elif roll < 0.7:
        address += f"{rng.randint(1, 6)}单元{rng.randint(1, 30)}{rng.randint(1, 20):02d}号"
    return address


def _mobile(rng: random.Random) -> str:
    """A valid-looking mainland mobile number."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100000000):08d}"


def enterprise_rows(n: int, seed: int = 2026) -> Iterator[dict]:
    """Yield n demo enterprises with unique names and credit codes, the article's four first."""
    rng = random.Random(seed)
    names: set[str] = set()
    codes: set[str] = set()

    def unique_code() -> str:
        """A credit code not yet handed out."""
        code = make_credit_code(rng)
        while code in codes:
            code = make_credit_code(rng)
        codes.add(code)
        return code

    def row(name: str, section: str, size: str) -> dict:
        """One enterprise dict."""
        return {
            "name": name,
            "credit_code": unique_code(),
            "legal_rep": _person_name(rng),
            "address": _address(rng),
            "industry": section,
            "size": size,
            "contact_name": _person_name(rng),
            "contact_mobile": _mobile(rng),
        }

    for name, section, size in _ARTICLE_ENTERPRISES[:n]:
        names.add(name)
        yield row(name, section, size)

    for _ in range(n - min(n, len(_ARTICLE_ENTERPRISES))):
        section = rng.choices(_SECTIONS, cum_weights=_SECTION_CUM)[0]
        attempt = 0
        name = _company_name(rng, section, attempt)
        while name in names:
            attempt += 1
            name = _company_name(rng, section, attempt)
        names.add(name)
        size = rng.choices(_SIZES, cum_weights=_SIZE_CUM)[0]
        yield row(name, section, size)
