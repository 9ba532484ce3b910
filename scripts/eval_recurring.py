"""Score recurring-payment detection on generated user histories with known ground truth.

Pure stdlib; touches nothing but stdout. Usage: python scripts/eval_recurring.py [--users N --seed S]
Prints per-cadence counts, then LAST a line `precision=P recall=R` over recurring outflow series.
"""

from __future__ import annotations

import argparse
import calendar
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from finjobs.domain.recurring import Txn, detect_recurring

END = date(2026, 10, 31)

SUBSCRIPTIONS = [
    ("NETFLIX.COM", 1549),
    ("SPOTIFY USA", 1099),
    ("DISNEY PLUS", 1399),
    ("HULU", 799),
    ("APPLE.COM/BILL ICLOUD", 299),
    ("PLANET FITNESS", 2499),
    ("NYTIMES DIGITAL", 1700),
    ("AUDIBLE", 1495),
    ("XBOX GAME PASS", 1699),
    ("ADOBE CREATIVE CLOUD", 5499),
    ("OPENAI CHATGPT", 2000),
    ("DROPBOX", 1199),
    ("PATREON MEMBERSHIP", 500),
    ("YOUTUBE PREMIUM", 1399),
    ("PEACOCK TV", 599),
    ("DUOLINGO PLUS", 1299),
]
BILLS = [
    ("CON EDISON UTILITY", 9800, 0.04),
    ("CITY WATER DEPT", 4500, 0.03),
    ("VERIZON WIRELESS", 8500, 0.0),
    ("COMCAST XFINITY", 7999, 0.0),
    ("GEICO AUTO INSURANCE", 13200, 0.0),
    ("NATIONAL GRID GAS", 6400, 0.04),
    ("PROGRESSIVE INS", 11000, 0.0),
    ("T-MOBILE", 7000, 0.02),
    ("PG&E ENERGY", 12000, 0.07),
]
WEEKLY = [("HELLOFRESH MEAL KIT", 6999), ("SPARKLE CLEANERS", 12000), ("KIDS SWIM ACADEMY", 3000)]
BIWEEKLY = [("GREEN LAWN CARE", 5500), ("DR SMITH THERAPY", 4000), ("HAPPY PAWS DOG WALK", 6000)]
YEARLY = [
    ("AMAZON PRIME ANNUAL", 13900),
    ("COSTCO MEMBERSHIP", 6500),
    ("GODADDY DOMAIN RENEWAL", 2299),
    ("DMV VEHICLE REGISTRATION", 8600),
]
MISC = [
    "TARGET",
    "WALMART",
    "AMAZON MKTP",
    "CHIPOTLE",
    "UBER TRIP",
    "LYFT RIDE",
    "HOME DEPOT",
    "CVS PHARMACY",
    "BEST BUY",
    "IKEA",
    "OLIVE GARDEN",
    "SHELL OIL",
    "DOORDASH",
    "ETSY",
]


@dataclass
class User:
    txns: list[Txn] = field(default_factory=list)
    truth: dict[str, tuple[str, set[int | str]]] = field(default_factory=dict)  # id -> (cadence, ids)
    next_id: int = 0


def _describe(rng: random.Random, name: str, when: date) -> str:
    """Bank-feed noise: card refs, store numbers, dates and reference codes around the name."""
    style = rng.randrange(5)
    if style == 0:
        return name
    if style == 1:
        return f"POS {rng.randrange(1000, 9999)} {name} #{rng.randrange(1, 999):03d} {when:%m/%d}"
    if style == 2:
        return f"{name} REF {rng.randrange(10**6, 10**7)}"
    if style == 3:
        return f"DEBIT CARD PURCHASE XXXX{rng.randrange(1000, 9999)} {name}"
    return f"{name} {when:%m/%d/%y} P{rng.randrange(10**5, 10**6)}X"


def _add(u: User, rng: random.Random, when: date, amount: int, name: str, series: str | None) -> None:
    if when > END:
        return
    u.next_id += 1
    u.txns.append(Txn(u.next_id, when, amount, _describe(rng, name, when), None))
    if series is not None:
        u.truth[series][1].add(u.next_id)


def _jitter(rng: random.Random, big: bool) -> int:
    if big:  # now and then a charge posts late (weekend, bank holiday)
        return rng.choice([0, 0, 0, 1, -1, 1, 2, -2]) if rng.random() > 0.04 else rng.choice([3, 4])
    return rng.choice([0, 0, 0, 0, 1, -1])


def _weekday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7) if d.weekday() >= 5 else d


def _month_dates(start: date, stop: date, day: int) -> list[date]:
    out, y, m = [], start.year, start.month
    while True:
        d = date(y, m, min(day, calendar.monthrange(y, m)[1]))
        if d > stop:
            return out
        if d >= start:
            out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _series(
    u: User,
    rng: random.Random,
    sid: str,
    cadence: str,
    name: str,
    dates: list[date],
    amounts: list[int],
    outflow: bool = True,
) -> None:
    if outflow:
        u.truth[sid] = (cadence, set())
    for d, a in zip(dates, amounts, strict=True):
        _add(u, rng, d, -a if outflow else a, name, sid if outflow else None)
    if outflow and len(u.truth[sid][1]) < 3:
        del u.truth[sid]  # not detectable by definition (fewer than 3 occurrences)


def make_user(rng: random.Random) -> User:
    u = User()
    months = rng.randint(8, 40)
    start = END - timedelta(days=int(months * 30.4))

    def span() -> tuple[date, date]:
        s = start + timedelta(days=rng.randrange(0, max(1, (END - start).days // 2)))
        e = END if rng.random() > 0.15 else END - timedelta(days=rng.randrange(30, 200))
        return s, e

    for i, (name, price) in enumerate(rng.sample(SUBSCRIPTIONS, rng.randint(2, 6))):
        s, e = span()
        dates = [d + timedelta(days=_jitter(rng, True)) for d in _month_dates(s, e, rng.randint(1, 31))]
        if len(dates) > 6 and rng.random() < 0.1:  # one failed / skipped charge
            del dates[rng.randrange(1, len(dates) - 1)]
        amounts = [price] * len(dates)
        if len(dates) > 4 and rng.random() < 0.3:
            cut = rng.randrange(2, len(dates))
            new = price + max(1, int(price * rng.choice([0.03, 0.1, 0.15, 0.25])))
            amounts = [price] * cut + [new] * (len(dates) - cut)
        _series(u, rng, f"sub{i}", "monthly", name, dates, amounts)
    if rng.random() < 0.3:  # one merchant, several plans: split by amount, not by name
        for i, price in enumerate(rng.sample([299, 999, 1099, 699, 1499], 2)):
            s, e = span()
            dates = [d + timedelta(days=_jitter(rng, False)) for d in _month_dates(s, e, rng.randint(1, 31))]
            _series(u, rng, f"apple{i}", "monthly", "APPLE.COM/BILL", dates, [price] * len(dates))
    for i, (name, base, var) in enumerate(rng.sample(BILLS, rng.randint(2, 5))):
        s, _ = span()
        # Direct debits do not post at weekends: Saturday/Sunday slide to Monday.
        dates = [
            _weekday(d + timedelta(days=_jitter(rng, False)))
            for d in _month_dates(s, END, rng.randint(1, 28))
        ]
        amounts = [int(base * (1 + rng.uniform(-var, var))) for _ in dates]
        _series(u, rng, f"bill{i}", "monthly", name, dates, amounts)
    if rng.random() < 0.8:
        day = rng.choice([1, 1, 3, 5])
        _series(
            u,
            rng,
            "rent",
            "monthly",
            "OAKWOOD PROPERTY MGMT RENT",
            [d + timedelta(days=_jitter(rng, False)) for d in _month_dates(start, END, day)],
            [rng.randrange(90000, 250000, 500)] * len(_month_dates(start, END, day)),
        )
    for cadence, catalog, period in (("weekly", WEEKLY, 7), ("biweekly", BIWEEKLY, 14)):
        for i, (name, price) in enumerate(rng.sample(catalog, rng.randint(0, 2))):
            s, e = span()
            n = (e - s).days // period + 1
            dates = [s + timedelta(days=period * k + _jitter(rng, False)) for k in range(n)]
            _series(u, rng, f"{cadence}{i}", cadence, name, dates, [price] * n)
    for i, (name, price) in enumerate(rng.sample(YEARLY, rng.randint(0, 2))):
        first = start + timedelta(days=rng.randrange(0, 365))
        dates = []
        for k in range(END.year - first.year + 1):
            y = first.year + k
            slot = date(y, first.month, min(first.day, calendar.monthrange(y, first.month)[1]))
            if slot <= END:
                dates.append(slot + timedelta(days=_jitter(rng, True)))
        amounts = [price] * len(dates)
        if len(dates) >= 3 and rng.random() < 0.3:
            amounts[-1] = int(price * 1.1)
        _series(u, rng, f"yearly{i}", "yearly", name, dates, amounts)
    # Paydays: income, not scored, but must not disturb outflows.
    pay = rng.randrange(150000, 600000)
    if rng.random() < 0.5:
        pdates = [start + timedelta(days=14 * k) for k in range((END - start).days // 14 + 1)]
    else:
        pdates = _month_dates(start, END, rng.choice([1, 15, 25, 31]))
    _series(
        u,
        rng,
        "pay",
        "x",
        "ACME CORP PAYROLL",
        pdates,
        [int(pay * rng.uniform(0.98, 1.02)) for _ in pdates],
        outflow=False,
    )
    # Habitual decoys: repetition without a schedule.
    menu = rng.sample([425, 475, 550, 395, 610], rng.randint(1, 3))
    cafe = rng.choice(["BLUE BOTTLE COFFEE", "STARBUCKS STORE", "SQ *JOES CAFE"])
    grocer = rng.choice(["WHOLE FOODS MKT", "TRADER JOE'S", "SAFEWAY"])
    lunch = rng.choice(["SWEETGREEN", "PRET A MANGER", "SUBWAY"])
    # Fixed-price habits at loose intervals: the hardest decoys (same amount, roughly periodic).
    for name, price, gaps in (("GREAT CLIPS HAIRCUT", 4500, (25, 45)), ("METRO CARD TOPUP", 2000, (5, 10))):
        when = start + timedelta(days=rng.randint(0, 20))
        while when <= END:
            _add(u, rng, when, -price, name, None)
            when += timedelta(days=rng.randint(*gaps))
    d, next_fuel = start, start + timedelta(days=rng.randint(5, 12))
    while d <= END:
        weekday = d.weekday() < 5
        if rng.random() < (0.75 if weekday else 0.3):
            _add(u, rng, d, -rng.choice(menu), cafe, None)
        if weekday and rng.random() < 0.35:
            _add(u, rng, d, -rng.choice([1250, 1395]), lunch, None)
        if rng.random() < 1.5 / 7:
            _add(u, rng, d, -rng.randrange(2500, 18000), grocer, None)
        if d == next_fuel:
            _add(u, rng, d, -rng.randrange(3500, 7500), "CHEVRON", None)
            next_fuel = d + timedelta(days=rng.randint(5, 12))
        if rng.random() < 0.4:
            _add(u, rng, d, -rng.randrange(500, 20000), rng.choice(MISC), None)
        d += timedelta(days=1)
    return u


def score(users: int, seed: int) -> None:
    tp_det = 0
    n_det = 0
    per: Counter[str] = Counter()
    for n in range(users):
        u = make_user(random.Random(seed * 1_000_003 + n))
        detected = [s for s in detect_recurring(u.txns) if not s.is_income]
        n_det += len(detected)
        matched_truth: set[str] = set()
        for s in detected:
            per[f"{s.cadence}:detected"] += 1
            ids = set(s.occurrences)
            best = max(u.truth.items(), key=lambda kv: len(kv[1][1] & ids), default=None)
            if best is None:
                continue
            sid, (_cad, truth_ids) = best
            overlap = len(truth_ids & ids)
            if sid not in matched_truth and overlap * 2 >= len(truth_ids) and overlap * 2 >= len(ids):
                matched_truth.add(sid)
                tp_det += 1
                per[f"{s.cadence}:correct"] += 1
        for sid, (cad, _ids) in u.truth.items():
            per[f"{cad}:truth"] += 1
            if sid in matched_truth:
                per[f"{cad}:found"] += 1
    n_truth = sum(v for k, v in per.items() if k.endswith(":truth"))
    for cad in ("weekly", "biweekly", "monthly", "yearly"):
        print(
            f"{cad:9s} truth={per[cad + ':truth']:5d} found={per[cad + ':found']:5d} "
            f"detected={per[cad + ':detected']:5d} correct={per[cad + ':correct']:5d}"
        )
    precision = tp_det / n_det if n_det else 1.0
    recall = sum(v for k, v in per.items() if k.endswith(":found")) / n_truth if n_truth else 1.0
    print(f"users={users} seed={seed} truth_series={n_truth} detected_series={n_det}")
    print(f"precision={precision:.2f} recall={recall:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    score(args.users, args.seed)


if __name__ == "__main__":
    main()
