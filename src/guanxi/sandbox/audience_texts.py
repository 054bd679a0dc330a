"""What the sandbox audience says: the demo brand's world, in natural Simplified Chinese.

The demo brand sells Provence wines in China, so its fans write about the wines, which
Chinese dishes they go with, gifts (Mid-Autumn, Spring Festival, weddings), prices and
delivery, with praise and complaints and questions before buying; a few accounts post
advertising; and once in a while a small crisis starts (a corked or fake bottle) that
others share and react to. Texts are built from templates with slots, plus one real public
Weibo post about wine (dengxiuqi/weibo2018 ``train.txt``, mid 4232079426079678, the only
one of the shared corpora about wine). A seeded ``random.Random`` makes every text
reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

BRAND = "普罗旺斯葡萄酒"
# Every text names at least one of these: the audience talks about the brand's world.
WORLD_WORDS = ("酒", "普罗旺斯", "桃红", "干白", "干红", "起泡", "醒酒", "开瓶")

WINES = ("普罗旺斯桃红", "桃红", "干白", "干红", "起泡酒", "酒庄珍藏桃红", "小瓶装桃红")
DISHES = (
    "小龙虾",
    "白切鸡",
    "清蒸鲈鱼",
    "北京烤鸭",
    "糖醋排骨",
    "椒盐虾",
    "广式烧鹅",
    "大闸蟹",
    "麻辣火锅",
    "生煎包",
    "红烧肉",
    "潮汕牛肉火锅",
)
OCCASIONS = ("中秋", "春节", "婚礼", "七夕", "父亲节", "乔迁")
RECIPIENTS = ("爸妈", "老板", "客户", "岳父", "闺蜜", "同事", "男朋友")
CITIES = ("上海", "北京", "成都", "深圳", "杭州", "广州", "武汉", "厦门")
PRICES = ("168", "198", "258", "298", "388", "568")
SHOPS = ("天猫旗舰店", "京东自营", "微信小程序", "线下门店", "小红书店铺")

# (kind, weight, templates): what fans say, by what it is about.
TEMPLATES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    (
        "praise",
        20,
        (
            "昨晚开了一瓶{wine}，果香好清新，一点都不涩，已经回购第三次了",
            "{wine}颜值太高了，粉粉的酒液拍照超好看，味道也在线！",
            "第一次喝{wine}就爱上了，冰一下口感更好，夏天必备",
            "朋友聚会带了{wine}，大家都问在哪买的，好评！",
            "包装很用心，{wine}冰镇后喝，清爽不腻，推荐给不太懂酒的朋友",
        ),
    ),
    (
        "pairing",
        16,
        (
            "{wine}配{dish}真的绝了，解腻又提鲜",
            "试了{wine}配{dish}，意外地搭，酸度刚好中和了油腻",
            "有人试过{wine}配{dish}吗？周末想在家做一顿",
            "今晚{dish}+{wine}，打工人的小确幸",
            "{dish}到底配干红还是{wine}？求懂酒的朋友指点",
        ),
    ),
    (
        "gift",
        14,
        (
            "{occasion}想送{recipient}，{wine}有没有礼盒装？",
            "{occasion}买了两瓶{wine}送{recipient}，礼盒很有面子",
            "{occasion}快到了，预算{price}左右，送{recipient}葡萄酒选哪款好？",
            "婚宴用酒在看{wine}，一次要二十箱有团购价吗？",
            "给{recipient}挑{occasion}礼物，{wine}配上贺卡，走心又不俗",
        ),
    ),
    (
        "question",
        16,
        (
            "{wine}开瓶后能放几天？需要放冰箱吗？",
            "请问{wine}是原瓶进口的吗？有没有中文背标？",
            "{wine}要醒酒吗？第一次买，怕喝不懂",
            "{wine}甜不甜？家里长辈不太能喝干的",
            "{shop}和{shop2}卖的{wine}是一样的吗？",
            "{wine}适合{occasion}家宴喝吗？一桌十个人买几瓶够？",
        ),
    ),
    (
        "price",
        9,
        (
            "{wine}{price}一瓶，比去年贵了点，有优惠券吗？",
            "{shop}的{wine}好像比{shop2}便宜，是真的吗？",
            "双十一{wine}会打折吗？想囤几瓶",
            "{price}块的{wine}值不值？求喝过的说说",
        ),
    ),
    (
        "delivery",
        9,
        (
            "在{shop}下单{wine}三天了还没发货，{city}能发吗？",
            "{city}夏天发{wine}会不会热坏？有冷链吗？",
            "快递到了，{wine}包装完好，泡沫箱很厚，点赞",
            "物流显示到{city}好几天了，我的酒呢？",
        ),
    ),
    (
        "complaint",
        9,
        (
            "收到的{wine}瓶口有点漏酒，客服一直不回，怎么处理？",
            "{wine}和上次买的味道不一样，是不是批次问题？",
            "买的{wine}礼盒压坏了，{occasion}送人很尴尬",
            "在{shop}买的{wine}发票一直开不出来，能处理一下吗",
        ),
    ),
    (
        "spam",
        4,
        (
            "进口红酒一手货源，拉菲、奔富批发价，加V：wine{number} ",
            "红酒代理招募中，0门槛月入过万，私信了解t.cn/{code}",
            "专业收购名酒洋酒，高价回收，全国上门，电话1{number}",
        ),
    ),
)
REAL_POSTS = (
    # dengxiuqi/weibo2018 train.txt, mid 4232079426079678 (a public Sina Weibo post): its
    # first sentences, within a comment's 140 characters.
    (
        "红葡萄酒中，酸和酒香、酒精、单宁构建成一个和谐的整体，取悦你的味蕾。浓郁的红葡萄酒，"
        "更适合秋冬，而对于白葡萄酒，酸更是不可或缺，酸度给葡萄酒增添了活力与清爽之感。"
    ),
)
REAL_POST_SHARE = 0.02

CRISIS_OPENINGS = (
    "刚开的{wine}一股湿纸板味，明显是木塞污染了，退换都没人理！大家买之前注意",
    "在{shop}买的{wine}瓶盖和防伪码对不上，是不是假酒？求官方回应！",
)
CRISIS_SHARES = (
    "转发微博 //@{origin}: {opening}",
    "真的假的？我上周也在{shop}买了{wine}，回家看看防伪码 //@{origin}: {opening}",
    "坐等官方回应，{wine}我一直挺喜欢的 //@{origin}: {opening}",
    "求官方说明一下这款酒怎么验真，{occasion}还打算送人呢",
    "木塞污染是葡萄酒常见问题，和真假没关系，看品牌怎么处理吧",
)
CRISIS_AFTER = 10  # texts said before the crisis starts
CRISIS_REACTIONS = 8  # shares and reactions before it dies down
CRISIS_SHARE = 0.35  # while it runs, the part of texts that are about it


@dataclass(frozen=True)
class Said:
    """One text of the audience and what it is about (``kind``)."""

    kind: str
    text: str


@dataclass
class Crisis:
    """The small crisis's course: its opening post, who wrote it, how often it was shared."""

    opening: str = ""
    origin: str = ""
    reactions: int = 0


@dataclass
class Voice:
    """What the audience has said so far: how many texts, and the crisis's progress."""

    said: int = 0
    crisis: Crisis = field(default_factory=Crisis)

    def say(
        self, rng: random.Random, *, author: str = "", message: bool = False, weibo: bool = True
    ) -> Said:
        """The next text, chosen with ``rng``; ``author`` names who would open the crisis; a
        ``message`` (a private message) is never advertising, a share or the crisis; off
        ``weibo``, reactions to the crisis do not quote it as Weibo's reposts do."""
        self.said += 1
        crisis = self.crisis
        if not crisis.opening and self.said > CRISIS_AFTER and author and not message:
            crisis.opening = self._fill(rng, rng.choice(CRISIS_OPENINGS))
            crisis.origin = author
            return Said("crisis", crisis.opening)
        running = crisis.opening and crisis.reactions < CRISIS_REACTIONS
        if running and not message and rng.random() < CRISIS_SHARE:
            crisis.reactions += 1
            shares = [t for t in CRISIS_SHARES if weibo or "//@" not in t]
            return Said("crisis-share", self._fill(rng, rng.choice(shares)))
        if not message and rng.random() < REAL_POST_SHARE:
            return Said("real", rng.choice(REAL_POSTS))
        kinds = [(kind, weight, texts) for kind, weight, texts in TEMPLATES]
        if message:
            kinds = [entry for entry in kinds if entry[0] != "spam"]
        kind, _, texts = rng.choices(kinds, [weight for _, weight, _ in kinds])[0]
        return Said(kind, self._fill(rng, rng.choice(texts)))

    def _fill(self, rng: random.Random, template: str) -> str:
        """The template with its slots filled at random."""
        shop, shop2 = rng.sample(SHOPS, 2)
        return template.format(
            brand=BRAND,
            wine=rng.choice(WINES),
            dish=rng.choice(DISHES),
            occasion=rng.choice(OCCASIONS),
            recipient=rng.choice(RECIPIENTS),
            city=rng.choice(CITIES),
            price=rng.choice(PRICES),
            shop=shop,
            shop2=shop2,
            number=rng.randrange(10_000_000, 99_999_999),
            code=f"{rng.randrange(16**6):06x}",
            origin=self.crisis.origin,
            opening=self.crisis.opening,
        )
