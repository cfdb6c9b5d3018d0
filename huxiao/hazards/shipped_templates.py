"""The checklist templates shipped with the platform (issue 6, ADR 0026 "Templates").

They are built from the policy texts (§1 = the 护校安园 action plan, §2 = the opinion on the
long-term mechanism, 公通字〔2010〕38号) and GB/T 29315-2022. Item texts are content, not UI
strings: they are written in Chinese as data, like the other data of the platform, and are
not translated. Every template scores 100 in total.

`load_shipped_templates()` is called by a data migration and may be called again at any time:
a template whose (code, version) exists is left alone, so a county's copies and later
versions are never touched.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from huxiao.hazards.choices import HazardCategory as C
from huxiao.hazards.choices import TemplateKind

SHIPPED_VERSION = 1


def _i(text, score, category, ref="", guidance="", photo=False) -> dict:
    return {
        "text": text,
        "max_score": Decimal(str(score)),
        "category": str(category),
        "reference": ref,
        "guidance": guidance,
        "photo_required": photo,
    }


NA_IF_NOT_BOARDING = "非寄宿制学校、幼儿园选“不适用”。"

SIX_MEASURES = {
    "code": "six-measures",
    "name": "护校安园六项措施检查",
    "kind": TemplateKind.SIX_MEASURES,
    "description": "对照“护校安园”专项行动六项工作措施（§1 二）逐项检查，适用于派出所、"
    "综治办、中心学校的月度督导检查。",
    "sections": [
        {
            "title": "一、校园内部安全管理（§1 二(一)）",
            "items": [
                _i(
                    "校长（园长）作为校园安全第一责任人，职责明确，安全责任书已签订",
                    4,
                    C.RULES,
                    "§1 二(一)",
                    "查看安全责任书、岗位安全职责文件。",
                ),
                _i(
                    "设立安全管理机构，配备专兼职安全保卫人员",
                    4,
                    C.STAFFING,
                    "§1 二(一)一",
                    "查看机构设置文件和人员名单。",
                ),
                _i(
                    "按规定数量聘用专职门卫和保安员，保安员经岗前培训持证上岗",
                    4,
                    C.STAFFING,
                    "§1 二(一)一",
                    "现场查验保安员证和培训记录。",
                ),
                _i(
                    "配全《规范》规定的8种基本安全防护、应急处置装备器械",
                    4,
                    C.EQUIPMENT,
                    "§1 二(一)一",
                    "防暴钢叉、防暴盾牌、防暴头盔、防刺背心、防割手套、橡胶警棍、"
                    "强光手电、催泪喷射器，逐件清点并拍照。",
                    True,
                ),
                _i(
                    "寄宿制校园增配专职保安员和宿舍管理员，24小时有人值班值守",
                    3,
                    C.DORMITORY,
                    "§1 二(一)一",
                    NA_IF_NOT_BOARDING,
                ),
                _i(
                    "技防系统按国家标准建设，视频监控与公安机关、教育部门联网",
                    4,
                    C.TECHNICAL,
                    "§1 二(一)二",
                    "现场查看监控画面和联网状态。",
                    True,
                ),
                _i(
                    "设置家长等候区域、隔离栏、减速带或升降柱等硬质防冲撞设施",
                    4,
                    C.PHYSICAL,
                    "§1 二(一)二",
                    "",
                    True,
                ),
                _i(
                    "实行封闭式管理，外来人员和车辆登记、内部出入证、学生幼儿接送制度落实",
                    3,
                    C.RULES,
                    "§1 二(一)三",
                    "抽查当月访客登记和接送记录。",
                ),
                _i(
                    "严防管制刀具、易燃易爆等危险物品带入校园",
                    2,
                    C.RULES,
                    "§1 二(一)三",
                ),
            ],
        },
        {
            "title": "二、校园内外安全隐患排查整改（§1 二(二)）",
            "items": [
                _i(
                    "建立经常性隐患排查机制，对保卫力量、防护装备、管理制度、防范设施、"
                    "应急处置机制不间断检查并有记录",
                    4,
                    C.RULES,
                    "§1 二(二)",
                ),
                _i(
                    "排查出的隐患登记建档，落实整改责任人和整改期限",
                    4,
                    C.RULES,
                    "§1 二(二)",
                    "抽查隐患台账，核对整改销号情况。",
                ),
                _i(
                    "安防薄弱（农村）校园的经费、装备保障已落实",
                    2,
                    C.EQUIPMENT,
                    "§1 二(二)",
                ),
                _i(
                    "会同工商、文化、卫生、食药等部门清查整治周边占道摊点、“黄赌毒”等治安乱点",
                    4,
                    C.SURROUNDINGS,
                    "§1 二(二)",
                ),
                _i(
                    "重大隐患和突出治安问题实行挂牌督办",
                    2,
                    C.RULES,
                    "§1 二(二)",
                ),
            ],
        },
        {
            "title": "三、校园周边巡逻防控（§1 二(三)）",
            "items": [
                _i(
                    "落实校园高峰勤务和“护学岗”，上学放学重点时段有警力或安保力量在岗",
                    4,
                    C.STAFFING,
                    "§1 二(三)",
                    "上学或放学时段现场查看并拍照。",
                    True,
                ),
                _i(
                    "学校纳入网格化巡逻巡查，有巡查记录",
                    3,
                    C.RULES,
                    "§1 二(三)",
                ),
                _i(
                    "组织周边单位、商户、家长和志愿者开展群防群治，村校联防机制发挥作用",
                    3,
                    C.STAFFING,
                    "§1 二(三)",
                ),
                _i(
                    "校园周边交通安全设施（标志、标线、减速带、信号灯）齐全完好",
                    3,
                    C.TRAFFIC,
                    "§1 二(三)",
                    "",
                    True,
                ),
                _i(
                    "会同教育、交通部门开展校车管理与检查",
                    3,
                    C.TRAFFIC,
                    "§1 二(三)",
                ),
            ],
        },
        {
            "title": "四、涉校高危人员排查管控（§1 二(四)）",
            "items": [
                _i(
                    "周边易肇事肇祸精神病人、扬言报复、生活无着、债务缠身等人员逐一登记建档",
                    4,
                    C.RULES,
                    "§1 二(四)",
                ),
                _i(
                    "逐一落实疏导、稳控等管控措施，掌握动态",
                    3,
                    C.RULES,
                    "§1 二(四)",
                ),
                _i(
                    "开学、家长会、上下学等节点做好矛盾纠纷发现、上报、化解",
                    3,
                    C.RULES,
                    "§1 二(四)",
                ),
                _i(
                    "通过网络巡查等渠道发现扬言侵害师生的信息并及时处置",
                    2,
                    C.OTHER,
                    "§1 二(四)",
                ),
            ],
        },
        {
            "title": "五、警校联动机制（§1 二(五)）",
            "items": [
                _i(
                    "涉校安全苗头性、动向性信息及时通报辖区公安机关",
                    3,
                    C.RULES,
                    "§1 二(五)一",
                ),
                _i(
                    "法制副校长定期开展法制安全教育和应急演练，参加家长会",
                    3,
                    C.RULES,
                    "§1 二(五)二",
                    "查看本学期教育、演练记录。",
                ),
                _i(
                    "警务室民警每周到校园工作不少于2次，有记录",
                    3,
                    C.STAFFING,
                    "§1 二(五)三",
                ),
                _i(
                    "视频监控“视频巡逻”与校园安保人员联动，应急联动预案完备",
                    3,
                    C.TECHNICAL,
                    "§1 二(五)四",
                ),
                _i(
                    "落实《中小学校岗位安全工作指南》，对教职员工开展安全教育培训",
                    2,
                    C.RULES,
                    "§1 二(五)二",
                ),
            ],
        },
        {
            "title": "六、督导检查和责任追究（§1 二(六)）",
            "items": [
                _i(
                    "校园安全工作考核目标纳入教育督导评估和综治考评体系",
                    3,
                    C.RULES,
                    "§1 二(六)",
                ),
                _i(
                    "派出所、综治办、中心学校每月开展督导检查，采取明察暗访、抽查等形式",
                    3,
                    C.RULES,
                    "§1 二(六)",
                ),
                _i(
                    "检查情况及时通报，整改措施督促落实",
                    2,
                    C.RULES,
                    "§1 二(六)",
                ),
                _i(
                    "校园安全责任追究制度落实（问责约谈、一票否决）",
                    2,
                    C.RULES,
                    "§1 二(六)",
                ),
            ],
        },
    ],
}


def _section(number: int, title: str, items: list[dict]) -> dict:
    return {"title": f"第{number}条 {title}", "items": items}


LONG_TERM_MECHANISM = {
    "code": "long-term-3-18",
    "name": "长效机制第3–18条对照检查",
    "kind": TemplateKind.POLICY_ITEMS,
    "description": "对照《关于进一步加强学校幼儿园安全防范工作建立健全长效工作机制的意见》"
    "第3–18条逐条自查，按“缺啥补啥”原则形成整改清单（§2 二）。",
    "sections": [
        _section(
            3,
            "落实内部安全管理责任",
            [
                _i("校长（园长）为校园内部安全管理第一责任人，责任明确", 2, C.RULES, "§2 3"),
                _i("内部治安保卫工作纳入单位管理目标，各项安全管理制度健全", 2, C.RULES, "§2 3"),
                _i("人防、物防、技防等安全措施落实", 2, C.RULES, "§2 3"),
            ],
        ),
        _section(
            4,
            "调整充实内部保卫力量",
            [
                _i(
                    "设置治安保卫机构，配备专兼职保卫人员，并报县级公安机关备案",
                    2,
                    C.STAFFING,
                    "§2 4",
                    "查看备案回执。",
                ),
                _i("配备专职门卫，专业保安人员数量合理、配齐到位", 2, C.STAFFING, "§2 4"),
                _i(
                    "保安人员经岗前培训合格后持证上岗",
                    2,
                    C.STAFFING,
                    "§2 4",
                    "现场查验保安员证。",
                ),
                _i("保安人员配备必要的装备器械", 1, C.EQUIPMENT, "§2 4", "", True),
            ],
        ),
        _section(
            5,
            "完善落实内部安全管理规章制度",
            [
                _i("落实每日值班制度，教职员工担任治安员参与执勤", 1, C.RULES, "§2 5"),
                _i(
                    "外来人员、车辆登记制度和内部人员、车辆出入证制度严格执行",
                    2,
                    C.RULES,
                    "§2 5",
                    "抽查当月登记记录。",
                ),
                _i("小学、幼儿园家长接送制度落实", 1, C.RULES, "§2 5"),
                _i(
                    "食堂按食品卫生流程规范管理，非食堂工作人员不进入操作间",
                    1,
                    C.CANTEEN,
                    "§2 5",
                    "",
                    True,
                ),
                _i("每月安全隐患自查，发现问题及时整改", 1, C.RULES, "§2 5"),
                _i(
                    "寄宿制：配备生活管理和安全指导教师，实行请假登记、夜间巡查",
                    1,
                    C.DORMITORY,
                    "§2 5",
                    NA_IF_NOT_BOARDING,
                ),
            ],
        ),
        _section(
            6,
            "加快技防设施建设",
            [
                _i(
                    "重点部位视频监控和报警设施配齐",
                    3,
                    C.TECHNICAL,
                    "§2 6",
                    "对照重点部位逐一查看。",
                    True,
                ),
                _i(
                    "监控室24小时有人值守，认真填写值班记录",
                    2,
                    C.TECHNICAL,
                    "§2 6",
                    "",
                    True,
                ),
                _i("技防设施定期维护保养，有记录", 1, C.TECHNICAL, "§2 6"),
                _i(
                    "新建、扩建、改建时安全设施同步设计、同步建设、同步使用", 1, C.TECHNICAL, "§2 6"
                ),
            ],
        ),
        _section(
            7,
            "加强安全防范教育培训和教师队伍管理",
            [
                _i("法制辅导员（法制副校长）配齐到位，定期参加家长会", 2, C.STAFFING, "§2 7"),
                _i("每学期开展一次以上以自身防护为主题的安全防范教育", 2, C.RULES, "§2 7"),
                _i(
                    "每周利用课间操组织一次学生疏散演练",
                    2,
                    C.RULES,
                    "§2 7",
                    "查看演练记录和照片。",
                ),
                _i("做好校园内部工作人员背景审查，严把准入关", 1, C.STAFFING, "§2 7"),
            ],
        ),
        _section(
            8,
            "健全完善警校对接联动制度",
            [
                _i("校园视频监控系统和报警设施接入公安监控平台", 3, C.TECHNICAL, "§2 8"),
                _i(
                    "派出所“视频巡逻”与校园安保人员实时联动，案事件处置流程清楚",
                    3,
                    C.RULES,
                    "§2 8",
                ),
            ],
        ),
        _section(
            9,
            "推进周边警务室或治安岗亭建设",
            [
                _i(
                    "治安复杂、问题较多的学校周边设置警务室或治安岗亭",
                    3,
                    C.PHYSICAL,
                    "§2 9",
                    "",
                    True,
                ),
                _i("定期派民警到警务室或岗亭开展工作", 3, C.STAFFING, "§2 9"),
            ],
        ),
        _section(
            10,
            "严密周边地区巡逻防控",
            [
                _i(
                    "上学放学时段校园门口“见警察”",
                    2,
                    C.STAFFING,
                    "§2 10",
                    "上学或放学时段现场拍照。",
                    True,
                ),
                _i("主要路段“见警车”，周边地区“见警灯”", 2, C.STAFFING, "§2 10"),
                _i("建立车巡与步巡、着装与便衣相结合的巡逻勤务制度", 2, C.RULES, "§2 10"),
            ],
        ),
        _section(
            11,
            "依法严厉打击涉校涉园违法犯罪",
            [
                _i("涉校涉园案件实行专案专人制度，快侦快破", 3, C.RULES, "§2 11"),
                _i("建立周边治安形势研判预警机制，及时开展打击整治", 3, C.RULES, "§2 11"),
            ],
        ),
        _section(
            12,
            "推行校车接送制度",
            [
                _i("校车配备安全员，校车安全责任落实", 2, C.TRAFFIC, "§2 12"),
                _i("校车安全检查和驾驶人资格审查落实", 2, C.TRAFFIC, "§2 12"),
                _i(
                    "校车标识、停靠站标志标线符合《校车标识》（GB 24315）",
                    2,
                    C.TRAFFIC,
                    "§2 12",
                    "无校车的学校选“不适用”。",
                    True,
                ),
            ],
        ),
        _section(
            13,
            "周边安全隐患经常性排查整治",
            [
                _i("每学期至少开展一次学校、幼儿园清查检查", 2, C.SURROUNDINGS, "§2 13"),
                _i("排查出的隐患逐一登记建档，分解任务、限期解决", 2, C.SURROUNDINGS, "§2 13"),
                _i("周边黑网吧、“黄赌毒”等治安乱点得到整治", 2, C.SURROUNDINGS, "§2 13"),
            ],
        ),
        _section(
            14,
            "广泛开展群防群治活动",
            [
                _i(
                    "组织党员干部、民兵、志愿者、治安积极分子等开展校园周边治安巡逻",
                    3,
                    C.STAFFING,
                    "§2 14",
                ),
                _i("在家长自愿基础上组建志愿队伍，轮流在校门口执勤", 3, C.STAFFING, "§2 14"),
            ],
        ),
        _section(
            15,
            "落实维护校园安全工作责任",
            [
                _i("校园安全责任层层落实到乡镇、村委会和每一所学校", 3, C.RULES, "§2 15"),
                _i("宣传校园安全方针政策，推广先进经验和创新做法", 3, C.RULES, "§2 15"),
            ],
        ),
        _section(
            16,
            "进一步强化各部门职责",
            [
                _i(
                    "教育部门明确专门机构和专职人员，安全工作考核目标纳入教育督导评估",
                    3,
                    C.RULES,
                    "§2 16",
                ),
                _i("公安等各有关部门职责明确、协作配合", 3, C.RULES, "§2 16"),
            ],
        ),
        _section(
            17,
            "加强督导检查和考核",
            [
                _i(
                    "定期开展校园安全督导检查，及时通报检查情况",
                    3,
                    C.RULES,
                    "§2 17",
                    "本条原文未收录于政策文本，按§1 二(六)检查。",
                ),
                _i("校园安全工作纳入季度、年度考核", 3, C.RULES, "§2 17"),
            ],
        ),
        _section(
            18,
            "严格落实责任追究",
            [
                _i(
                    "对工作不力、长期排名落后的单位主要责任人问责约谈",
                    3,
                    C.RULES,
                    "§2 18",
                    "本条原文未收录于政策文本，按§1 二(六)检查。",
                ),
                _i("发生重大恶性案件和安全事故的依规实施“一票否决”", 3, C.RULES, "§2 18"),
            ],
        ),
    ],
}

KEY_AREAS = {
    "code": "key-areas-gbt29315",
    "name": "重点部位安全防范检查（GB/T 29315-2022）",
    "kind": TemplateKind.KEY_AREAS,
    "description": "按《中小学、幼儿园安全技术防范系统要求》（GB/T 29315-2022）逐个重点部位"
    "检查人防、物防、技防；物理设施须现场拍照。",
    "sections": [
        {
            "title": "门卫室与出入口",
            "items": [
                _i(
                    "出入口视频监控覆盖，能看清进出人员面部和车辆号牌",
                    3,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "调取画面查看清晰度。",
                    True,
                ),
                _i(
                    "门卫室设紧急报警装置（一键报警）并与公安机关联网",
                    3,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "现场测试报警是否送达。",
                    True,
                ),
                _i(
                    "门卫室配齐防护装备（钢叉、盾牌、头盔、防刺背心等）",
                    3,
                    C.EQUIPMENT,
                    "§1 二(一)一",
                    "",
                    True,
                ),
                _i("门卫24小时值守，在岗人员与排班一致", 3, C.STAFFING, "§2 4", "", True),
                _i(
                    "出入口设置升降柱、隔离墩或阻车器等防冲撞设施",
                    2,
                    C.PHYSICAL,
                    "§1 二(一)二",
                    "",
                    True,
                ),
                _i("来访人员、车辆登记完整", 2, C.RULES, "§2 5", "抽查当日登记。"),
            ],
        },
        {
            "title": "周界",
            "items": [
                _i(
                    "围墙或栅栏完整、无破损缺口，高度足以防止攀爬",
                    4,
                    C.PHYSICAL,
                    "GB/T 29315",
                    "沿周界走一圈，缺口处拍照。",
                    True,
                ),
                _i(
                    "周界设入侵报警或视频监控，无盲区",
                    4,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "",
                    True,
                ),
                _i("周界内外无可供攀爬的堆物、树木，夜间照明充足", 2, C.PHYSICAL, "", "", True),
                _i("周界破损有报修记录并及时修复", 2, C.RULES),
            ],
        },
        {
            "title": "监控室",
            "items": [
                _i(
                    "监控室24小时专人值守，值班记录完整",
                    3,
                    C.STAFFING,
                    "§2 6",
                    "",
                    True,
                ),
                _i(
                    "视频图像存储时间不少于30天",
                    3,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "现场调阅近30天的录像。",
                ),
                _i("报警系统与公安机关联网并定期测试", 3, C.TECHNICAL, "§2 8"),
                _i("监控画面清晰，无黑屏、遮挡、偏移", 2, C.TECHNICAL, "", "", True),
                _i("设备维护保养有记录", 1, C.TECHNICAL, "§2 6"),
                _i("监控室门禁管理，无关人员不得进入", 2, C.PHYSICAL, "", "", True),
            ],
        },
        {
            "title": "学生宿舍",
            "items": [
                _i(
                    "宿舍楼出入口视频监控覆盖",
                    2,
                    C.TECHNICAL,
                    "GB/T 29315",
                    NA_IF_NOT_BOARDING,
                    True,
                ),
                _i("宿舍管理员24小时值班，夜间巡查有记录", 3, C.DORMITORY, "§2 5"),
                _i("住宿学生请假、晚归登记制度落实", 2, C.DORMITORY, "§2 5"),
                _i(
                    "疏散通道畅通，安全出口标志和应急照明完好",
                    2,
                    C.DORMITORY,
                    "",
                    "",
                    True,
                ),
                _i("窗户防护栏不封死逃生通道", 1, C.DORMITORY, "", "", True),
            ],
        },
        {
            "title": "食堂",
            "items": [
                _i(
                    "食堂操作间、库房视频监控覆盖",
                    2,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "",
                    True,
                ),
                _i("操作间门禁管理，非食堂工作人员不得进入", 2, C.CANTEEN, "§2 5", "", True),
                _i(
                    "食品留样48小时以上，留样记录完整",
                    2,
                    C.CANTEEN,
                    "",
                    "查看留样柜和记录。",
                    True,
                ),
                _i("从业人员持有效健康证明", 2, C.CANTEEN),
                _i("原料进货查验、索证索票记录完整", 2, C.CANTEEN),
            ],
        },
        {
            "title": "教学楼",
            "items": [
                _i("楼梯口、走廊视频监控覆盖", 2, C.TECHNICAL, "GB/T 29315", "", True),
                _i(
                    "楼梯通道畅通，上下楼有教师值守，防拥挤踩踏",
                    3,
                    C.PHYSICAL,
                    "",
                    "",
                    True,
                ),
                _i("安全出口、疏散指示标志和应急照明完好", 2, C.PHYSICAL, "", "", True),
                _i("灭火器等消防器材配备齐全且在有效期内", 3, C.EQUIPMENT, "", "", True),
                _i("栏杆、扶手、门窗牢固", 2, C.PHYSICAL, "", "", True),
            ],
        },
        {
            "title": "危化品储存",
            "items": [
                _i(
                    "实验室危险化学品专库（专柜）存放，双人双锁管理",
                    3,
                    C.PHYSICAL,
                    "GB/T 29315",
                    "无危险化学品的学校选“不适用”。",
                    True,
                ),
                _i("危险化学品领用、出入库登记完整", 2, C.RULES),
                _i("储存处设视频监控和报警装置", 2, C.TECHNICAL, "GB/T 29315", "", True),
                _i("危险品警示标识清晰", 1, C.EQUIPMENT),
            ],
        },
        {
            "title": "车辆与停车",
            "items": [
                _i(
                    "校内机动车停放区与学生活动区域分隔",
                    3,
                    C.TRAFFIC,
                    "",
                    "",
                    True,
                ),
                _i("入校车辆登记，校内限速行驶", 2, C.TRAFFIC, "§2 5"),
                _i(
                    "校门口交通标志、减速带设置齐全",
                    3,
                    C.TRAFFIC,
                    "§1 二(三)",
                    "",
                    True,
                ),
                _i("非机动车停放有序，不占用疏散通道", 2, C.TRAFFIC, "", "", True),
            ],
        },
        {
            "title": "配电",
            "items": [
                _i("配电室（箱）上锁，设警示标识", 2, C.EQUIPMENT, "", "", True),
                _i("电气线路无私拉乱接、老化破损", 3, C.EQUIPMENT, "", "", True),
                _i("配电设施定期检查，有记录", 1, C.EQUIPMENT),
                _i("配电室配备适用的灭火器材", 2, C.EQUIPMENT, "", "", True),
            ],
        },
    ],
}

MONTHLY_SELF_CHECK = {
    "code": "monthly-self-check",
    "name": "学校（幼儿园）月度安全自查",
    "kind": TemplateKind.MONTHLY_SELF_CHECK,
    "description": "学校、幼儿园每月开展的安全隐患自查（§2 5），发现问题当场登记为隐患并落实整改。",
    "sections": [
        {
            "title": "人防",
            "items": [
                _i("门卫、保安按排班在岗，持证上岗", 5, C.STAFFING, "§2 4", "", True),
                _i("值班领导和值班教师按时到岗，值班记录完整", 5, C.STAFFING, "§2 5"),
                _i("上学放学时段护学岗到位", 5, C.STAFFING, "§1 二(三)", "", True),
                _i("安保装备器械齐全可用", 5, C.EQUIPMENT, "§1 二(一)一", "", True),
            ],
        },
        {
            "title": "物防",
            "items": [
                _i("围墙、大门完好，无破损缺口", 5, C.PHYSICAL, "", "", True),
                _i("防冲撞设施完好并按时启用", 5, C.PHYSICAL, "§1 二(一)二", "", True),
                _i("消防器材在有效期内，疏散通道畅通", 5, C.EQUIPMENT, "", "", True),
            ],
        },
        {
            "title": "技防",
            "items": [
                _i(
                    "视频监控运行正常，录像保存不少于30天",
                    5,
                    C.TECHNICAL,
                    "GB/T 29315",
                    "",
                    True,
                ),
                _i("一键报警本月测试正常", 5, C.TECHNICAL, "§2 8"),
                _i("监控室值守和值班记录完整", 5, C.TECHNICAL, "§2 6"),
            ],
        },
        {
            "title": "制度落实",
            "items": [
                _i("外来人员、车辆登记完整", 5, C.RULES, "§2 5"),
                _i("学生、幼儿接送制度执行到位", 5, C.RULES, "§2 5"),
                _i("上月隐患已按期整改销号", 5, C.RULES, "§2 5", "对照上月隐患清单逐项核对。"),
            ],
        },
        {
            "title": "食堂、宿舍与教学设施",
            "items": [
                _i(
                    "食堂食品留样、从业人员健康证明符合要求",
                    5,
                    C.CANTEEN,
                    "§2 5",
                    "无食堂的学校选“不适用”。",
                    True,
                ),
                _i("宿舍夜间巡查、请假登记记录完整", 5, C.DORMITORY, "§2 5", NA_IF_NOT_BOARDING),
                _i("楼梯、栏杆、门窗等教学设施安全", 5, C.PHYSICAL, "", "", True),
            ],
        },
        {
            "title": "安全教育与演练",
            "items": [
                _i("本月开展安全教育，有记录", 5, C.RULES, "§2 7"),
                _i("本月开展疏散演练，有记录和照片", 5, C.RULES, "§2 7"),
            ],
        },
        {
            "title": "周边与信息报送",
            "items": [
                _i("校门口周边摊点、交通秩序正常", 5, C.SURROUNDINGS, "§2 13"),
                _i(
                    "涉校矛盾纠纷、可疑人员信息已及时报送派出所",
                    5,
                    C.RULES,
                    "§1 二(五)一",
                ),
            ],
        },
    ],
}

SURROUNDINGS = {
    "code": "surroundings",
    "name": "校园周边环境检查",
    "kind": TemplateKind.SURROUNDINGS,
    "description": "检查校园周边摊点、网吧娱乐场所、交通秩序、施工和治安状况（§1 二(二)(三)、"
    "§2 13），发现的问题交由市场监管、文化、卫生、交警等部门整治。",
    "sections": [
        {
            "title": "摊点与商户",
            "items": [
                _i(
                    "校门口及周边道路无占道经营摊点",
                    7,
                    C.SURROUNDINGS,
                    "§1 二(二)",
                    "",
                    True,
                ),
                _i(
                    "周边无“三无”食品和无证食品摊贩",
                    7,
                    C.SURROUNDINGS,
                    "§1 二(二)",
                    "",
                    True,
                ),
                _i("周边商店不向学生出售管制刀具、烟酒及不健康读物玩具", 6, C.SURROUNDINGS),
            ],
        },
        {
            "title": "网吧与娱乐场所",
            "items": [
                _i(
                    "学校周围200米范围内无网吧、歌舞娱乐场所",
                    7,
                    C.SURROUNDINGS,
                    "§2 13",
                    "",
                    True,
                ),
                _i("周边无黑网吧，网吧不接纳未成年人", 7, C.SURROUNDINGS, "§2 13"),
                _i("周边无“黄赌毒”等治安乱点", 6, C.SURROUNDINGS, "§2 13"),
            ],
        },
        {
            "title": "交通秩序",
            "items": [
                _i(
                    "校门口交通标志标线、限速标志和人行横道齐全",
                    7,
                    C.TRAFFIC,
                    "§1 二(三)",
                    "",
                    True,
                ),
                _i(
                    "上学放学时段有交警或护学岗维护交通秩序",
                    6,
                    C.TRAFFIC,
                    "§1 二(三)",
                    "",
                    True,
                ),
                _i("家长接送车辆停放有序，设有家长等候区", 6, C.TRAFFIC, "§1 二(一)二", "", True),
                _i("无非法营运车辆、无牌无证车辆接送学生", 6, C.TRAFFIC, "§2 12"),
            ],
        },
        {
            "title": "施工与危险场所",
            "items": [
                _i(
                    "周边施工工地围挡封闭，警示标志齐全",
                    7,
                    C.SURROUNDINGS,
                    "",
                    "",
                    True,
                ),
                _i(
                    "周边水塘、河道、陡坎有护栏或警示标志",
                    7,
                    C.SURROUNDINGS,
                    "",
                    "",
                    True,
                ),
                _i("周边无易燃易爆危险品经营或储存点", 6, C.SURROUNDINGS),
            ],
        },
        {
            "title": "治安力量",
            "items": [
                _i("周边警务室或治安岗亭正常运转", 5, C.STAFFING, "§2 9", "", True),
                _i("周边高危人员、可疑人员管控措施落实", 5, C.RULES, "§2 13"),
                _i("群防群治力量参与周边巡逻", 5, C.STAFFING, "§2 14"),
            ],
        },
    ],
}

SHIPPED_TEMPLATES = [
    SIX_MEASURES,
    LONG_TERM_MECHANISM,
    KEY_AREAS,
    MONTHLY_SELF_CHECK,
    SURROUNDINGS,
]


def total_score(spec: dict) -> Decimal:
    return sum(
        (item["max_score"] for section in spec["sections"] for item in section["items"]),
        Decimal(0),
    )


def load_shipped_templates(
    *, template_model=None, section_model=None, item_model=None, now=None
) -> list[str]:
    """Create the shipped templates that are missing; return the codes created.

    Idempotent by (code, version). The model classes may be passed in, so a data migration
    can load the historical models (apps.get_model) instead of today's.
    """
    if template_model is None:
        from huxiao.hazards.models import ChecklistTemplate, TemplateItem, TemplateSection

        template_model = ChecklistTemplate
        section_model = TemplateSection
        item_model = TemplateItem
    now = now or timezone.now()
    created = []
    with transaction.atomic():
        for spec in SHIPPED_TEMPLATES:
            if template_model.objects.filter(code=spec["code"], version=SHIPPED_VERSION).exists():
                continue
            # A shipped code has only its shipped version as current unless someone published
            # another version; never take "current" away from it.
            has_current = template_model.objects.filter(code=spec["code"], is_current=True)
            template = template_model.objects.create(
                code=spec["code"],
                version=SHIPPED_VERSION,
                name=spec["name"],
                kind=str(spec["kind"]),
                description=spec["description"],
                owner=None,
                is_published=True,
                is_current=not has_current.exists(),
                published_at=now,
            )
            items = []
            for s_order, section_spec in enumerate(spec["sections"], start=1):
                section = section_model.objects.create(
                    template=template, order=s_order, title=section_spec["title"]
                )
                items.extend(
                    item_model(section=section, order=i_order, **item)
                    for i_order, item in enumerate(section_spec["items"], start=1)
                )
            item_model.objects.bulk_create(items)
            created.append(spec["code"])
    return created
