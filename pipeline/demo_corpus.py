"""A small sample WARC made only of text this project writes, for `make demo`.

`write_sample_warc(path, seed=...)` writes ~60 captures laid out like a Common Crawl WARC (warcinfo, then
request, response and metadata per capture, one gzip member per record): English articles in boilerplate,
articles in six other languages (three in legacy charsets, declared three different ways), link-only pages,
near and exact duplicates, PII, spam, an image, a script, a 404, a 301 and a revisit. Same seed, same bytes:
record ids and dates come from the seed, and warcio's gzip members come from zlib, whose header has no mtime.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import random
import re
import struct
import uuid
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from io import BytesIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

CRAWL_NAME = "GRISTMILL-DEMO-2026"
_ENGLISH_ARTICLES = 24
_NEAR_DUPLICATES = 5
_NAVIGATION_PAGES = 5
_PII_PAGES = 5
_SPAM_PAGES = 5
_FOREIGN_BEATS_PER_PAGE = 8  # of 11 per language: two pages share ~6, well below near-duplicate similarity
# (language, charset, where it is declared); the legacy charsets cover the three places a page can name one.
_FOREIGN_PAGES = (*[("de", "UTF-8", "both"), ("fr", "UTF-8", "both"), ("es", "UTF-8", "both")] * 2, ("ru", "UTF-8", "both"),
                  ("ru", "windows-1251", "meta"), ("ja", "UTF-8", "both"), ("ja", "Shift_JIS", "header"),
                  ("zh", "UTF-8", "both"), ("zh", "GB2312", "http-equiv"))
_SYNDICATOR = "regional-digest.example"  # reposts near-duplicates of other sites' articles
_FIRST_CRAWL_DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)
_WARC_DATE = "%Y-%m-%dT%H:%M:%SZ"
_USER_AGENT = "gristmill-demo/1.0 (sample corpus, no real crawl)"


@dataclass(frozen=True, slots=True)
class SampleSummary:
    path: str
    records: int  # total WARC records written (all types)
    html_responses: int  # 200 text/html response records
    by_kind: dict[str, int]  # captures per page kind, e.g. {"article": 24, "spam": 5, ...}


@dataclass(frozen=True, slots=True)
class _Article:
    lang: str
    site: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    byline: str = ""


@dataclass(frozen=True, slots=True)
class _Capture:
    kind: str
    url: str
    body: bytes
    content_type: str = "text/html; charset=UTF-8"
    status: str = "200 OK"
    charset: str = "UTF-8"  # what the metadata record reports as detected; "" for binary
    extra_headers: tuple[tuple[str, str], ...] = ()


# English prose: a lede, shuffled middle beats, a closer. A beat is one to two sentences that
# only make sense together; slots are filled from the topic and from the seed.
_LEDE = ("{name} discovered {topic} almost by accident, after a neighbour offered to explain the basics one afternoon. "
         '"I thought it would keep me busy for a few weeks, and it has become part of every week since," {first} said.')
_BEATS = """\
Over the past {years} years, interest in {topic} has grown steadily in {place} and in many towns like it.
The first lesson most {people} learn is that {thing} does not happen by itself. It takes planning, routine and a willingness to make mistakes.
Beginners often underestimate how much time goes into {problem}. Experienced {people} recommend starting small and keeping careful notes from the first day.
You do not need expensive equipment to begin: {tool} will carry most people through their first year.
A local club in {place} meets every week to share advice and welcome newcomers. About {pct} percent of its members learned from a friend or a relative rather than from a course.
Many find that {season} is the best time to start, because the first mistakes are easier to forgive.
Patience matters more than talent, and the rewards of {topic} often take a full year to show.
Some critics say the recent boom has attracted people who give up after a few months. Others reply that even a short attempt teaches something lasting about {thing}.
The public library in {place} now lends books and equipment to anyone who wants to try {topic} before buying anything.
{first} keeps a simple rule: learn one new thing each month and write down what went wrong.
There is also a social side that newcomers rarely expect. Friendships formed over {topic} tend to last, partly because they are built on shared problems.
Online forums can help, but several {people} warn that the advice found there is often contradictory. The club therefore pairs every new member with someone who has at least {years2} years of experience.
The biggest surprise, according to {first}, was how much {topic} changed the rhythm of an ordinary week. Mornings, evenings and weekends slowly start to be planned around {thing}.
Families often join in, and children in particular tend to pick up the basics remarkably quickly.
Record-keeping turns out to be one of the most valuable habits. A notebook full of dates, observations and small failures becomes a guide no book can replace.
The annual open day usually attracts several hundred visitors, many of them complete beginners. Volunteers answer questions all afternoon, and by evening the sign-up sheet is full.
Not every story is a success, and several people admitted that their first attempt ended badly. What kept them going was the encouragement of others who had made the same mistakes.""".splitlines()
_CLOSERS = ('Looking ahead, {first} hopes that more young people will discover {topic} early. "It teaches patience, attention '
            'and a little humility, and we could all use more of those," {first} said.',
            "For anyone thinking about starting, the advice is the same everywhere: begin now, begin small, and ask for help.",
            "Still, everyone we spoke to agreed that the difficulties are part of what makes {topic} so rewarding.")
_TITLES = ("Why {topic} is winning new fans in {place}", "{Topic}: what {people} wish they had known sooner",
           "A beginner's year of {topic}", "How {people} in {place} learn from each other", "The quiet rewards of {topic}")
# site | topic | people | thing | tool | season | problem | two sentences of facts
_TOPICS = """\
hive-notes.example|urban beekeeping|beekeepers|a healthy colony|a veil, a smoker and a hive tool|late spring|keeping varroa mites under control|A strong colony can hold more than fifty thousand bees at the height of summer. City hives often produce more honey than rural ones, because parks and gardens flower for much of the year.
nightsky-weekly.example|amateur astronomy|stargazers|a clear, dark sky|a pair of binoculars and a printed star chart|early autumn|light pollution from nearby streets|On a moonless night far from town, the naked eye can pick out a few thousand stars. Binoculars reveal the moons of Jupiter and craters on our own Moon that most people have never noticed.
crumb-and-crust.example|sourdough baking|home bakers|a lively starter|a kitchen scale and a heavy cast-iron pot|the winter months|judging when the dough has risen enough|A starter is nothing more than flour and water in which wild yeasts and bacteria have settled. Kept warm and fed daily, it can last for decades, and some families pass theirs down like an heirloom.
two-wheel-city.example|commuting by bicycle|cyclists|a safe route to work|a sturdy lock and a good set of lights|early summer|sharing narrow roads with heavy traffic|In several European cities more than a third of all trips to work are now made by bicycle. Where protected lanes have been built, the number of riders has often doubled within a few years.
rank-and-file-chess.example|club chess|chess players|a sound opening repertoire|a board, a clock and a notebook for recording games|the long winter evenings|managing the clock in difficult positions|Most clubs play rated games one evening a week and run a lightning tournament at the end of each season. Reviewing lost games, rather than won ones, is what most coaches say leads to improvement.
balcony-harvest.example|growing vegetables on a balcony|balcony gardeners|a steady harvest|deep pots, good compost and a watering can|early spring|watering often enough during hot weeks|Tomatoes, beans and lettuce grow well in containers, and herbs need even less space. A single sunny balcony can supply a small household with salad for most of the summer.
parish-and-past.example|local history research|amateur historians|a well-documented archive|a notebook, a camera and a library card|the quiet winter months|reading old handwriting in parish registers|Parish registers, old maps and census returns are the raw material of most projects. Many county archives have digitised their collections, so much of the research can now be done from home.
morning-chorus.example|birdwatching|birdwatchers|a quiet morning by the water|binoculars and a pocket field guide|the spring migration|telling similar warblers apart|Volunteer counts carried out every winter give scientists some of their best data on bird populations. Records kept by amateurs over decades have revealed shifts in migration dates that no single study could have found.
patch-notes.example|maintaining open-source software|maintainers|a friendly, well-run project|a laptop, version control and a lot of patience|the quiet weeks after the holidays|answering bug reports without burning out|Much of the software that runs the internet is looked after by small teams of volunteers. Clear contribution guides and a short list of beginner-friendly issues attract more new contributors than any publicity campaign.""".splitlines()
# Non-English prose, written by hand: one beat (two sentences that belong together) per line.
_FOREIGN = {
    "de": ("stadtleben.example", "Die Stadtbibliothek als Treffpunkt für alle|Mehr als Bücher: ein Besuch in der Stadtbibliothek", """\
Die Stadtbibliothek liegt mitten in der Altstadt, direkt neben dem Rathaus. Jeden Morgen warten schon vor der Öffnung einige Leser vor der Tür.
Im ersten Stock gibt es einen ruhigen Lesesaal mit großen Fenstern. Dort sitzen oft Studenten, die für ihre Prüfungen lernen.
Seit dem letzten Jahr kann man auch Werkzeuge und Brettspiele ausleihen. Die Idee kam von einer Gruppe älterer Menschen aus der Nachbarschaft.
Am Abend finden regelmäßig Lesungen und kleine Konzerte statt. Der Eintritt ist frei, aber man freut sich über eine Spende.
Im Sommer stehen Tische und Stühle im Innenhof. Wer möchte, kann dort lesen, arbeiten oder einfach einen Kaffee trinken.
Ehrenamtliche Helfer bringen Bücher zu Menschen, die nicht mehr gut laufen können. Diese Arbeit ist nicht bezahlt, aber sie macht allen große Freude.
Die meisten Bücher werden im Winter ausgeliehen, wenn es draußen früh dunkel wird. Besonders beliebt sind Kriminalromane und Reiseführer.
Für Kinder gibt es eine eigene Abteilung mit bunten Sitzkissen. Am Samstagvormittag liest dort eine Erzieherin aus neuen Bilderbüchern vor.
Die Bibliothek bietet außerdem Sprachkurse für neue Nachbarn an. Nach dem Unterricht bleiben viele noch eine Weile und unterhalten sich.
Die Leiterin sagt, eine Bibliothek sei heute mehr als ein Ort für Bücher. Sie sei ein Treffpunkt für alle, unabhängig von Alter und Herkunft.
Im nächsten Frühjahr soll eine kleine Werkstatt für Reparaturen eröffnen. Dort können Besucher mit Hilfe von Fachleuten alte Geräte wieder in Gang bringen."""),
    "fr": ("vie-locale.example", "Le marché du samedi, cœur battant du village|Au marché, les producteurs et leurs fidèles clients", """\
Le marché du samedi s'installe sur la place de l'église dès six heures du matin. Les premiers clients arrivent avant même que les étals soient prêts.
On y trouve des légumes de saison, du fromage, du pain et des fleurs. La plupart des producteurs viennent des villages voisins.
Madame Girard vend des fromages de chèvre depuis plus de trente ans. Elle connaît les goûts de chacun de ses clients.
En automne, les champignons et les pommes remplissent les paniers. En été, ce sont les tomates, les abricots et les melons qui attirent la foule.
Beaucoup de familles font leurs courses ensemble, puis prennent un café en terrasse. Pour les enfants, c'est souvent le meilleur moment de la semaine.
La mairie a décidé d'interdire les sacs en plastique sur le marché. Les clients apportent maintenant leurs propres paniers en osier.
Un jeune boulanger a ouvert un stand l'année dernière. Son pain au levain est souvent vendu avant dix heures.
Le marché est bien plus qu'un simple lieu de commerce. On s'y retrouve pour discuter, échanger des nouvelles et des recettes.
Chaque premier dimanche du mois, un cuisinier du quartier prépare un plat devant le public. Il utilise uniquement des produits achetés sur place.
Les producteurs se plaignent parfois de la météo, qui devient de plus en plus difficile à prévoir. Une seule tempête peut détruire une récolte entière.
À midi, les marchands rangent leurs tables et la place retrouve son silence. Il ne reste que l'odeur du pain et quelques feuilles de salade."""),
    "es": ("pueblos-vivos.example", "Un pueblo de montaña que vuelve a la vida|El camino de los pastores, de sendero olvidado a ruta popular", """\
El pueblo está a más de mil metros de altura, rodeado de montañas y bosques de pinos. En invierno, la nieve cubre los tejados durante semanas.
Hace veinte años, muchos jóvenes se marcharon a la ciudad en busca de trabajo. Hoy algunos vuelven con sus familias para vivir con más tranquilidad.
El antiguo camino de los pastores se ha convertido en una ruta de senderismo muy popular. Cada fin de semana llegan grupos de excursionistas de toda la región.
La subida hasta el mirador dura unas tres horas. Desde arriba se ve todo el valle y, en los días claros, incluso el mar.
La panadería abre muy temprano y huele a pan recién hecho desde la plaza. Los excursionistas compran allí sus bocadillos antes de salir.
En la escuela solo hay doce alumnos, pero la maestra dice que eso tiene muchas ventajas. Cada niño recibe la atención que necesita.
Los vecinos organizan cada verano una fiesta con música, baile y comida para todos. La celebración dura tres días y termina con fuegos artificiales.
Algunos guías locales ofrecen excursiones para observar aves y plantas de montaña. Explican a los visitantes cómo proteger este paisaje tan frágil.
En otoño, las familias salen al bosque a recoger setas y castañas. Es una tradición que pasa de padres a hijos.
Un pequeño museo cuenta la historia del pueblo con fotografías y herramientas antiguas. La entrada es gratuita y lo atienden voluntarios.
Nadie sabe si el pueblo seguirá creciendo en el futuro. Pero sus habitantes están convencidos de que merece la pena vivir aquí."""),
    "ru": ("gorod-na-reke.example", "Зима в маленьком городе на реке|Как живёт старый город на берегу реки", """\
Наш город стоит на берегу широкой реки, которая зимой полностью замерзает. В январе люди ходят по льду с одного берега на другой.
Каждое утро рыбаки выходят на лёд и сверлят лунки старым ручным буром. Они сидят там часами, даже когда на улице очень холодно и дует сильный ветер.
В центре города есть старый рынок, где продают мёд, грибы и свежее молоко. Многие покупатели приходят туда каждую неделю.
Летом на набережной много туристов, которые приезжают посмотреть на старые деревянные дома с резными окнами. Некоторым из этих домов больше двухсот лет, и в них до сих пор живут люди.
Местный музей рассказывает об истории торговли на реке в прошлые века. Там можно увидеть старые карты, лодки, монеты и инструменты местных мастеров.
Зимой дети катаются на санках с высокого берега до самого вечера. Родители стоят рядом, разговаривают с соседями и пьют горячий чай из термоса.
Весной, когда лёд начинает таять, река становится очень опасной. В это время спасатели дежурят на берегу круглые сутки, а жителям запрещают выходить на лёд.
Многие молодые люди уезжают учиться в большие города, например в Москву или Казань. Но некоторые из них потом возвращаются домой и открывают здесь своё дело.
Каждый год в августе проходит праздник города с концертами и ярмаркой. На праздник приезжают гости из соседних сёл, и на площади бывает очень много людей.
Жители гордятся своим городом и стараются сохранить его историю. Они сами ремонтируют старые дома, убирают улицы и сажают деревья вдоль набережной.
Осенью в лесу вокруг города собирают грибы, бруснику и клюкву. Это любимое занятие многих семей, и у каждого есть свои тайные места."""),
    "ja": ("machi-dayori.example", "山と海の間の小さな町の暮らし|古い電車が走る町を歩く", """\
私の町は山と海にはさまれた小さな町です。駅から海までは歩いて十分ほどです。
毎朝、古い電車が町の中心をゆっくり走っています。通学する高校生や買い物に行くお年寄りがよく乗っています。
春になると、川沿いの桜並木が一斉に咲きます。週末には多くの家族が花見に集まります。
駅前の商店街には、昔からの八百屋や魚屋が今も残っています。店の人はお客さんの名前をよく覚えています。
夏祭りの夜には、通りに屋台がたくさん並びます。子どもたちは浴衣を着て、花火を楽しみにしています。
秋には山の紅葉を見に、遠くから観光客がやって来ます。地元の人は静かな朝早くに散歩するのが好きです。
最近、都会から移り住む若い家族が増えています。古い家を直して、カフェや小さな店を始める人もいます。
町の人たちは毎月一回、海岸のごみを拾う活動をしています。参加する人は年々多くなっています。
地元の農家は、朝とれた野菜を駅の市場で売っています。新鮮で安いので、すぐに売り切れてしまいます。
夕方になると、港に漁船が戻ってきます。その日にとれた魚はすぐに町の食堂に届けられます。
この町の暮らしは便利とは言えませんが、人と人とのつながりがあります。それがこの町のいちばんの魅力だと思います。"""),
    "zh": ("chengshi-shenghuo.example", "城市公园里的一家老茶馆|公园里的四季生活", """\
我们城市的中心有一座很大的公园，公园里有湖，也有很多老树。每天早上，很多老人都在这里锻炼身体。
湖边有一家小茶馆，已经开了三十多年。老板每天很早开门，给客人泡好热茶。
周末的时候，许多家庭带着孩子来公园散步。孩子们喜欢在草地上放风筝。
春天，公园里的花都开了，到处都是红色和白色的花朵。很多人拿着相机来拍照。
夏天的晚上，广场上常常有人跳舞和唱歌。音乐声一直持续到九点左右。
茶馆里的客人大多是附近的居民。他们一边喝茶，一边聊天，谈论家里的事情和城市的新闻。
去年，市政府对公园进行了修整，新修了自行车道。现在骑车的人比以前多了很多。
秋天是公园最美的季节，树叶变成了金黄色。天气凉爽，非常适合出门走走。
冬天虽然很冷，但是早上锻炼的人并没有减少。有的人还在结冰的湖边打太极拳。
老板说，茶馆的生意不算很好，但是他舍不得关门。对他来说，这里的客人就像家人一样。
对于住在这座城市的人来说，公园是生活中不可缺少的一部分。这里让人们在忙碌的日子里感到放松。"""),
}
_NAMES = ("Maria Lindqvist", "Tom Okafor", "Priya Raman", "Daniel Weber", "Hannah Brooks", "Kenji Ito", "Laura Moreau",
          "Samuel Reyes", "Ayesha Khan", "Peter Novak", "Grace O'Neill", "Lucas Ferreira")
_PLACES = ("Leeds", "Bristol", "Portland", "Halifax", "Adelaide", "Dunedin", "Galway", "Madison", "Aberdeen", "Hobart")
# Near-duplicates swap a few of these words; MinHash should still pair them with the original.
_REWORDINGS = (("steadily", "quickly"), ("careful", "detailed"), ("usually", "often"), ("several", "a few"),
               ("small", "modest"), ("advice", "tips"), ("newcomers", "beginners"), ("rarely", "seldom"))
# Per language: nav labels | cookie banner | sidebar heading | rights notice. ASCII punctuation, so that
# every label also encodes in windows-1251, Shift_JIS and GB2312.
_CHROME = {
    "en": "Home,News,Features,Community,About,Contact|We use cookies to improve your experience. By continuing to browse this site you agree to our use of cookies.|Most read|All rights reserved.",
    "de": "Startseite,Aktuelles,Kultur,Veranstaltungen,Über uns,Kontakt|Diese Website verwendet Cookies. Wenn Sie weitersurfen, stimmen Sie der Nutzung zu.|Meistgelesen|Alle Rechte vorbehalten.",
    "fr": "Accueil,Actualités,Culture,Agenda,À propos,Contact|Ce site utilise des cookies. En poursuivant votre navigation, vous acceptez leur utilisation.|Les plus lus|Tous droits réservés.",
    "es": "Inicio,Noticias,Cultura,Agenda,Quiénes somos,Contacto|Este sitio utiliza cookies. Si continúa navegando, acepta su uso.|Lo más leído|Todos los derechos reservados.",
    "ru": "Главная,Новости,Культура,Афиша,О нас,Контакты|Этот сайт использует файлы cookie. Продолжая работу с сайтом, вы соглашаетесь с их использованием.|Самое читаемое|Все права защищены.",
    "ja": "ホーム,ニュース,暮らし,イベント,会社概要,お問い合わせ|このサイトはクッキーを使用しています。閲覧を続けることで、クッキーの使用に同意したものとみなされます。|よく読まれている記事|無断転載を禁じます。",
    "zh": "首页,新闻,文化,活动,关于我们,联系我们|本网站使用Cookie。继续浏览即表示您同意我们使用Cookie。|热门文章|版权所有。",
}
_SPAM_PHRASES = ("cheap watches", "best price", "buy now", "free shipping", "online casino", "bonus code",
                 "payday loans", "weight loss pills", "replica bags", "discount pills", "win big", "limited offer")
# Fictional numbers only: Ofcom's drama range (020 7946 0xxx) and North America's 555-01xx.
_PHONE_FORMATS = ("+44 20 7946 0{n:03d}", "020 7946 0{n:03d}", "(202) 555-01{m:02d}", "202.555.01{m:02d}", "+1-202-555-01{m:02d}")
_SCRIPT = (b'(function(){var b=document.getElementById("cookie-banner");if(b){b.querySelector("button").onclick='
           b'function(){b.style.display="none";};}})();\n')  # minified, as sites serve it


def write_sample_warc(path: str, *, seed: int = 0) -> SampleSummary:
    """Write the demo WARC to `path` (gzip, one member per record); the same seed gives the same bytes."""
    rng = random.Random(seed)
    captures = _plan(rng)
    clock = _FIRST_CRAWL_DAY + timedelta(days=rng.randrange(21), seconds=rng.randrange(86400))
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        warcinfo_id = _record_id(rng)
        writer.write_record(_warcinfo(writer, warcinfo_id, clock, seed))
        fetched_at: dict[str, str] = {}  # url -> WARC-Date of its response, for the revisit
        for capture in captures:
            clock += timedelta(seconds=rng.randint(1, 90))
            for record in _capture_records(writer, rng, capture, clock, warcinfo_id, fetched_at):
                writer.write_record(record)
    html = sum(c.kind != "revisit" and c.status == "200 OK" and c.content_type.startswith("text/html") for c in captures)
    return SampleSummary(path, 1 + 3 * len(captures), html, dict(sorted(collections.Counter(c.kind for c in captures).items())))


def _plan(rng: random.Random) -> list[_Capture]:
    """Every capture, in crawl order: shuffled, then the revisit (it refers to an earlier fetch)."""
    topics = [line.split("|") for line in rng.sample(_TOPICS, len(_TOPICS))]
    english = [_english_article(rng, topics[i % len(topics)], i // len(topics)) for i in range(_ENGLISH_ARTICLES)]
    captures = [_html("article", a.url, _render(a, _related(rng, a, english))) for a in english]
    langs = [lang for lang, _, _ in _FOREIGN_PAGES]
    foreign = [_foreign_article(rng, lang, langs[:i].count(lang)) for i, lang in enumerate(langs)]
    for article, (lang, charset, declared_in) in zip(foreign, _FOREIGN_PAGES):
        related = _related(rng, article, [a for a in foreign if a.lang == lang])
        captures.append(_encoded(f"article_{lang}", article, related, charset, declared_in))
    for index, original in enumerate(rng.sample(english, _NEAR_DUPLICATES)):
        if index % 2 == 0:  # a few words changed, on the same site
            copy, footer = _reword(rng, original), ""
        else:  # the same text syndicated: another site's boilerplate and footer
            copy = replace(original, site=_SYNDICATOR, url=f"https://{_SYNDICATOR}{urlsplit(original.url).path}")
            footer = f"First published by {original.site}. Republished with permission."
        captures.append(_html("near_duplicate", copy.url, _render(copy, _related(rng, copy, english), footer)))
    exact, revisited = rng.sample(captures[:_ENGLISH_ARTICLES], 2)
    captures.append(replace(exact, kind="exact_duplicate", url=f"{exact.url}?utm_source=newsletter&utm_medium=email"))
    captures += [_navigation(rng, index, english) for index in range(_NAVIGATION_PAGES)]
    captures += [_pii(rng, index, topics[index]) for index in range(_PII_PAGES)]
    captures += [_spam(rng, index) for index in range(_SPAM_PAGES)]
    captures += _other_responses(rng, english[0].site)
    rng.shuffle(captures)
    return [*captures, replace(revisited, kind="revisit")]


def _english_article(rng: random.Random, topic: list[str], variant: int) -> _Article:
    site, subject, people, thing, tool, season, problem, facts = topic
    name, author = rng.sample(_NAMES, 2)
    slots = {
        "topic": subject, "Topic": subject[0].upper() + subject[1:], "people": people, "thing": thing, "tool": tool,
        "season": season, "problem": problem, "place": rng.choice(_PLACES), "name": name, "first": name.split()[0],
        "years": rng.randint(5, 15), "years2": rng.randint(2, 6), "pct": rng.randint(55, 80),
    }
    middle = [*rng.sample(_BEATS, 9), facts]
    rng.shuffle(middle)
    beats = [_LEDE, *middle, rng.choice(_CLOSERS)]
    paragraphs = tuple(" ".join(beats[i:i + 3]).format(**slots) for i in range(0, len(beats), 3))
    title = _TITLES[variant % len(_TITLES)].format(**slots)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    url = f"https://{site}/2025/{month:02d}/{_slug(title)}/"
    return _Article("en", site, url, title, paragraphs, f"By {author} | 2025-{month:02d}-{day:02d}")


def _foreign_article(rng: random.Random, lang: str, index: int) -> _Article:
    site, titles, text = _FOREIGN[lang]
    beats = rng.sample(text.splitlines(), _FOREIGN_BEATS_PER_PAGE)
    glue = "" if lang in ("ja", "zh") else " "  # no spaces between Japanese or Chinese sentences
    paragraphs = tuple(glue.join(beats[i:i + 3]) for i in range(0, len(beats), 3))
    return _Article(lang, site, f"https://{site}/{lang}/2025/story-{index + 1}.html", titles.split("|")[index], paragraphs)


def _related(rng: random.Random, article: _Article, pool: list[_Article]) -> list[tuple[str, str]]:
    others = [a for a in pool if a.url != article.url]
    return [(a.url, a.title) for a in rng.sample(others, min(5, len(others)))]


def _render(article: _Article, related, footer: str = "", head: str = '<meta charset="utf-8">') -> str:
    byline = f'<p class="byline">{escape(article.byline)}</p>\n' if article.byline else ""
    body = "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in article.paragraphs)
    main = f"<article>\n<h1>{escape(article.title)}</h1>\n{byline}{body}</article>"
    return _page(article.lang, article.site, article.title, main, related, footer, head)


def _page(lang: str, site: str, title: str, main: str, related, footer: str = "", head: str = '<meta charset="utf-8">') -> str:
    """`main` inside a site's boilerplate: cookie banner, header with nav menu, sidebar links, footer."""
    nav, cookie, most_read, rights = _CHROME[lang].split("|")
    menu = "".join(f'<li><a href="/section-{i}/">{escape(label)}</a></li>' for i, label in enumerate(nav.split(",")))
    sidebar = "".join(f'<li><a href="{escape(url)}">{escape(text)}</a></li>' for url, text in related)
    return f"""<!DOCTYPE html>\n<html lang="{lang}">\n<head>{head}<title>{escape(title)} | {site}</title></head>\n<body>
<div id="cookie-banner" class="cookie-consent"><p>{escape(cookie)}</p><button type="button">OK</button></div>
<header class="site-header"><a class="logo" href="/">{site}</a><nav class="main-nav"><ul>{menu}</ul></nav></header>
<main>{main}</main>\n<aside class="sidebar"><h3>{escape(most_read)}</h3><ul>{sidebar}</ul></aside>
<footer class="site-footer"><p>{escape(footer or f"Copyright 2026 {site}. {rights}")}</p><ul><li><a href="/privacy/">Privacy</a>
</li><li><a href="/terms/">Terms</a></li><li><a href="/cookies/">Cookies</a></li></ul></footer>
<script src="/static/site.js"></script>\n</body>\n</html>\n"""


def _encoded(kind: str, article: _Article, related, charset: str, declared_in: str) -> _Capture:
    """A page in `charset`, declared in the HTTP header, a <meta charset>, a <meta http-equiv>, or header and meta."""
    head = {"header": "", "meta": f'<meta charset="{charset}">', "both": f'<meta charset="{charset.lower()}">',
            "http-equiv": f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'}[declared_in]
    content_type = f"text/html; charset={charset}" if declared_in in ("header", "both") else "text/html"
    return _Capture(kind, article.url, _render(article, related, head=head).encode(charset), content_type, charset=charset)


def _html(kind: str, url: str, page: str, status: str = "200 OK", extra_headers=()) -> _Capture:
    return _Capture(kind, url, page.encode("utf-8"), status=status, extra_headers=tuple(extra_headers))


def _reword(rng: random.Random, article: _Article) -> _Article:
    """The article at its AMP address, three words swapped for synonyms (the first occurrence of each)."""
    text = "\n".join(article.paragraphs)
    present = [pair for pair in _REWORDINGS if re.search(rf"\b{pair[0]}\b", text)]
    for old, new in rng.sample(present, min(3, len(present))):
        text = re.sub(rf"\b{old}\b", new, text, count=1)
    return replace(article, url=article.url.replace("/2025/", "/amp/2025/"), paragraphs=tuple(text.split("\n")))


def _navigation(rng: random.Random, index: int, english: list[_Article]) -> _Capture:
    """A page that is almost only links: an archive, a site map, a tag index."""
    site = english[index].site
    heading = ("Archive", "Site map", "All topics", "Partner sites", "Tags")[index % 5]
    links = [(a.url, a.title) for a in rng.sample(english, 20)]
    links += [(f"https://{site}/page/{n}/", f"Page {n}") for n in range(2, 20)]
    items = "".join(f'<li><a href="{escape(url)}">{escape(text)}</a></li>\n' for url, text in links)
    main = f'<h1>{heading}</h1>\n<ul class="link-list">\n{items}</ul>'
    return _html("navigation", f"https://{site}/{_slug(heading)}/", _page("en", site, heading, main, links[:8]))


def _pii(rng: random.Random, index: int, topic: list[str]) -> _Capture:
    """A club page: article prose, then a contact paragraph full of personal data in varied formats."""
    article = _english_article(rng, topic, index)
    (first, last), (first2, _) = (name.replace("'", "").split() for name in rng.sample(_NAMES, 2))
    phone, phone2 = (fmt.format(n=rng.randrange(1000), m=rng.randrange(100)) for fmt in rng.sample(_PHONE_FORMATS, 2))
    ip = f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randrange(1, 255)}"  # documentation ranges (RFC 5737)
    contact = (f"Questions about membership can go to our secretary, {first} {last}, at {first.lower()}.{last.lower()}@"
               f"{article.site} or by phone on {phone}. Out of hours, call {first2} directly on {phone2} or write to "
               f"{first2.lower()}{rng.randint(10, 99)}@mail.example. The treasurer asks members to pay the annual fee of "
               f"{rng.randint(20, 60)} pounds by bank transfer to IBAN {_iban(rng)}, quoting their full name. Until the end of "
               f"the month our old forum still runs at http://{ip}/forum/, and the server logs show most visits come from {ip}.")
    url = f"https://{article.site}/club/contact-{index + 1}/"
    return _html("pii", url, _render(replace(article, url=url, paragraphs=(*article.paragraphs[:3], contact)), []))


def _iban(rng: random.Random) -> str:
    """A checksum-valid British IBAN (ISO 13616 mod 97) on the fictional bank code WEST."""
    bban = f"WEST{rng.randrange(10**6):06d}{rng.randrange(10**8):08d}"
    iban = f"GB{98 - int(''.join(str(int(c, 36)) for c in bban + 'GB00')) % 97:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _spam(rng: random.Random, index: int) -> _Capture:
    """Keyword stuffing (even index) or one line repeated (odd), both with a hidden link farm."""
    words = rng.sample(_SPAM_PHRASES, 4)
    title = " ".join(words).title()
    if index % 2 == 0:
        text = "<p>" + " ".join(rng.choice(words) for _ in range(150)) + "</p>"
    else:
        text = "<br>\n".join([f"{words[0].upper()} - {words[1].upper()} - CLICK HERE NOW!!!"] * 60)
    farm = "".join(f'<a href="http://{_slug(w)}-{rng.randrange(100)}.example/">{w}</a> ' for w in _SPAM_PHRASES)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="keywords" content="{", ".join(_SPAM_PHRASES)}"></head>\n<body>\n<h1>{title}</h1>\n{text}\n'
            f'<div style="display:none">{farm}</div>\n</body>\n</html>\n')
    return _html("spam", f"http://{_slug(words[0])}-deals-{index + 1}.example/{_slug(words[1])}.html", page)


def _other_responses(rng: random.Random, site: str) -> list[_Capture]:
    """What a crawl holds besides pages: an image, a script, a 404 and a 301."""
    missing = "<h1>Page not found</h1>\n<p>Sorry, the page you are looking for does not exist or has been moved.</p>"
    target = f"https://{site}/about/"
    moved = f'<html><head><title>301 Moved Permanently</title></head><body><a href="{target}">Moved here</a></body></html>\n'
    return [
        _Capture("image", f"https://{site}/static/logo.png", _png(rng), "image/png", charset=""),
        _Capture("script", f"https://{site}/static/site.js", _SCRIPT, "application/javascript; charset=utf-8"),
        _html("not_found", f"https://{site}/2019/old-page/", _page("en", site, "Page not found", missing, []), "404 Not Found"),
        _html("redirect", f"http://{site}/about", moved, "301 Moved Permanently", [("Location", target)]),
    ]


def _png(rng: random.Random) -> bytes:
    """A valid 16x16 RGB PNG: a vertical gradient from a seeded colour."""
    red, green, blue = (rng.randrange(256) for _ in range(3))
    rows = b"".join(b"\x00" + bytes((red, green, (blue + 8 * y) % 256)) * 16 for y in range(16))
    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)  # width, height, bit depth, colour type RGB, no interlace
    chunks = ((b"IHDR", header), (b"IDAT", zlib.compress(rows, 9)), (b"IEND", b""))
    framed = (struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data)) for tag, data in chunks)
    return b"\x89PNG\r\n\x1a\n" + b"".join(framed)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _record_id(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def _warcinfo(writer: WARCWriter, record_id: str, when: datetime, seed: int):
    fields = (f"software: gristmill demo_corpus\r\nisPartOf: {CRAWL_NAME}\r\nformat: WARC File Format 1.0\r\n"
              f"description: gristmill demo sample, seed {seed}; every page written by the project, no real crawl\r\n").encode()
    headers = {"WARC-Record-ID": record_id, "WARC-Date": when.strftime(_WARC_DATE), "WARC-Filename": f"{CRAWL_NAME}-{seed}.warc.gz"}
    return writer.create_warc_record("", "warcinfo", payload=BytesIO(fields), length=len(fields),
                                     warc_content_type="application/warc-fields", warc_headers_dict=headers)


def _capture_records(writer: WARCWriter, rng: random.Random, capture: _Capture, when: datetime, warcinfo_id: str,
                     fetched_at: dict[str, str]):
    """Request, response (or revisit) and metadata, linked like Common Crawl's by WARC-Concurrent-To."""
    request_id, response_id, metadata_id = (_record_id(rng) for _ in range(3))
    common = {"WARC-Date": when.strftime(_WARC_DATE), "WARC-Warcinfo-ID": warcinfo_id}
    ip = {"WARC-IP-Address": f"198.51.100.{rng.randrange(1, 255)}"}
    url = urlsplit(capture.url)
    request_line = f"GET {url.path or '/'}{'?' + url.query if url.query else ''} HTTP/1.1"
    request_headers = [("Host", url.netloc), ("User-Agent", _USER_AGENT), ("Accept", "text/html,*/*;q=0.8")]
    request = writer.create_warc_record(capture.url, "request", warc_headers_dict={**common, **ip, "WARC-Record-ID": request_id},
                                        http_headers=StatusAndHeaders(request_line, request_headers, is_http_request=True))
    response_headers = [("Date", format_datetime(when, usegmt=True)), ("Server", "nginx"), ("Content-Type", capture.content_type),
                        ("Content-Length", str(len(capture.body))), *capture.extra_headers]
    http_headers = StatusAndHeaders(capture.status, response_headers, protocol="HTTP/1.1")
    headers = {**common, **ip, "WARC-Record-ID": response_id, "WARC-Concurrent-To": request_id}
    if capture.kind == "revisit":  # same payload as the earlier fetch: headers only, pointing back to it
        digest = "sha1:" + base64.b32encode(hashlib.sha1(capture.body).digest()).decode()
        response = writer.create_revisit_record(capture.url, digest, capture.url, fetched_at[capture.url],
                                                http_headers=http_headers, warc_headers_dict=headers)
    else:
        headers["WARC-Identified-Payload-Type"] = capture.content_type.split(";")[0]
        response = writer.create_warc_record(capture.url, "response", payload=BytesIO(capture.body), length=len(capture.body),
                                             http_headers=http_headers, warc_headers_dict=headers)
        fetched_at[capture.url] = common["WARC-Date"]
    fields = f"fetchTimeMs: {rng.randint(80, 900)}\r\n" + (f"charset-detected: {capture.charset}\r\n" if capture.charset else "")
    metadata_headers = {**common, "WARC-Record-ID": metadata_id, "WARC-Concurrent-To": response_id}
    metadata = writer.create_warc_record(capture.url, "metadata", payload=BytesIO(fields.encode()), length=len(fields),  # ASCII
                                         warc_content_type="application/warc-fields", warc_headers_dict=metadata_headers)
    return request, response, metadata
